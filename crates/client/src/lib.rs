//! `liftoff-client`: the W&B GraphQL operations Launch uses, typed.
