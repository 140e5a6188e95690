//! Tests of the linker and the seam, on small hand-made texts.
