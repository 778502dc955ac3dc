//! cgroups for slices: where each controller lives (`layout`), one group per
//! slice with its limits (`group`), and the removal of groups that a killed
//! parent left behind (`stale`).
//!
//! Every slice group lives under `<this process's group>/runink/<pid>/`, per
//! hierarchy, so a parent's groups are found, and removed, by its pid.

mod group;
pub mod layout;
mod stale;

pub(crate) use group::{Cgroups, SliceCgroup};
