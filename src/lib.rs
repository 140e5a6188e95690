pub mod attribute;
pub mod batch;
pub mod confidence;
pub mod error;
pub mod eval;
pub mod input;
pub mod lexicon;
pub mod normalise;
pub mod offsets;
pub mod output;
pub mod pipeline;
pub mod quotes;
pub mod record;
pub mod segment;
pub mod speakers;
pub mod train;

pub use error::{Error, Result};
