//! The model against the real W&B shapes in `spec/fixtures`.

mod fixtures;
mod props;
