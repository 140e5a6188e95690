//! Fitting the models: one recipe per model, each writing its file with the command that
//! rebuilds it, deterministically, from named data.
//!
//! - [`confidence`]: the attribution confidence model, from PolNeAR;
//! - [`cue`]: the cue model, from PolNeAR;
//! - [`spans`]: the span tagger of the learned stages, from PolNeAR;
//! - [`linker`]: the linker of the learned stages, and the confidence model over what they
//!   make, from PolNeAR;
//! - [`transformer`]: the default mode's fine-tuned transformer tagger, from PolNeAR;
//! - [`stance`]: the stance head over the encoder, from NewsMTSC and hand-labelled quotes.

pub mod confidence;
pub mod cue;
pub mod linker;
pub mod spans;
#[cfg(feature = "transformer")]
pub mod stance;
#[cfg(feature = "transformer")]
pub mod transformer;

pub use confidence::{labelled_attributions, train_confidence, ConfidenceRecipe, Trained};
pub use cue::{cue_examples, CueRecipe};
#[cfg(feature = "transformer")]
pub use stance::*;
