//! Placeholder until fixtures land.
