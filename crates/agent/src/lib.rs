//! `liftoff-agent`: the launch agent.
