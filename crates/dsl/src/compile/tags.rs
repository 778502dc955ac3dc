//! The tags a scenario may use and where each may stand.

/// Every tag the language knows, for "unknown tag" hints.
pub const KNOWN_TAGS: [&str; 13] = [
    "source", "step", "sink", "dlq", "golden", "assert", "herd", "module", "requires", "affinity",
    "window", "schedule", "emits",
];

/// Tags that place a step group and so stand above a `@step` (or above
/// `Scenario:` for the whole scenario).
pub const PLACEMENT_TAGS: [&str; 2] = ["requires", "affinity"];

/// Scenario-wide settings: above `Scenario:` or anywhere in its body.
pub const SCENARIO_TAGS: [&str; 7] = [
    "golden", "assert", "herd", "module", "window", "schedule", "emits",
];
