//! Fitting the models: one recipe per model, each writing its file with the command that
//! rebuilds it, deterministically, from named data.
//!
//! - [`confidence`]: the attribution confidence model, from PolNeAR;
//! - [`cue`]: the cue model, from PolNeAR;
//! - [`stance`]: the stance head over the encoder, from NewsMTSC and hand-labelled quotes.

pub mod confidence;
pub mod cue;
#[cfg(feature = "transformer")]
pub mod stance;

pub use confidence::{labelled_attributions, train_confidence, ConfidenceRecipe, Trained};
pub use cue::{cue_examples, CueRecipe};
#[cfg(feature = "transformer")]
pub use stance::*;
