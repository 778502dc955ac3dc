//! Placeholder until the plan types land.
