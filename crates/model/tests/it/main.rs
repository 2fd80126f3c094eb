//! The model against the real W&B shapes in `spec/fixtures`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod props;
