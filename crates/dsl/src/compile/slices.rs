//! Grouping steps into slices, the isolated processes a run starts: built-in
//! steps share one slice; `@requires` above a step starts a new one; every
//! `exec` step is a slice of its own.

use runink_plan::{Placement, Slice, SliceReason};

/// What slicing needs to know about one step.
#[derive(Debug, Clone)]
pub struct StepShape {
    pub number: usize,
    pub trusted: bool,
    /// `@requires`/`@affinity` written above the step, with the line of the first.
    pub placement: Option<(Placement, usize)>,
}

/// Pure: steps in, slices out; each step lands in exactly one slice.
pub fn slice_steps(steps: &[StepShape], defaults: &Placement) -> Vec<Slice> {
    let mut slices: Vec<Slice> = Vec::new();
    let mut open = false;
    for step in steps {
        let placement = step
            .placement
            .as_ref()
            .map(|(p, _)| with_defaults(p, defaults));
        if !step.trusted {
            slices.push(Slice {
                number: slices.len() + 1,
                steps: vec![step.number],
                reason: SliceReason::Exec,
                trusted: false,
                placement: placement.unwrap_or_else(|| defaults.clone()),
            });
            open = false;
            continue;
        }
        let reason = match (&step.placement, open) {
            (Some((_, line)), _) => Some(SliceReason::Requires { line: *line }),
            (None, true) => None,
            (None, false) if slices.last().is_some_and(|s| !s.trusted) => {
                Some(SliceReason::AfterExec)
            }
            (None, false) => Some(SliceReason::Default),
        };
        match reason {
            Some(reason) => {
                slices.push(Slice {
                    number: slices.len() + 1,
                    steps: vec![step.number],
                    reason,
                    trusted: true,
                    placement: placement.unwrap_or_else(|| defaults.clone()),
                });
                open = true;
            }
            None => {
                if let Some(slice) = slices.last_mut() {
                    slice.steps.push(step.number);
                }
            }
        }
    }
    slices
}

fn with_defaults(placement: &Placement, defaults: &Placement) -> Placement {
    Placement {
        resources: placement.resources.or(&defaults.resources),
        affinity: placement
            .affinity
            .clone()
            .or_else(|| defaults.affinity.clone()),
    }
}

#[cfg(test)]
mod tests {
    use runink_model::Resources;

    use super::*;

    fn step(number: usize, trusted: bool, requires_line: Option<usize>) -> StepShape {
        let placement = requires_line.map(|line| {
            (
                Placement {
                    resources: Resources {
                        cpu_millis: Some(2000),
                        ..Resources::default()
                    },
                    affinity: None,
                },
                line,
            )
        });
        StepShape {
            number,
            trusted,
            placement,
        }
    }

    #[test]
    fn groups_builtins_and_splits_at_requires_and_exec() {
        let steps = [
            step(1, true, None),
            step(2, true, None),
            step(3, true, Some(9)),
            step(4, true, None),
            step(5, false, None),
            step(6, true, None),
        ];
        let slices = slice_steps(&steps, &Placement::default());
        let groups: Vec<_> = slices
            .iter()
            .map(|s| (s.steps.clone(), s.reason.clone()))
            .collect();
        assert_eq!(
            groups,
            vec![
                (vec![1, 2], SliceReason::Default),
                (vec![3, 4], SliceReason::Requires { line: 9 }),
                (vec![5], SliceReason::Exec),
                (vec![6], SliceReason::AfterExec),
            ]
        );
        assert_eq!(slices[1].placement.resources.cpu_millis, Some(2000));
        assert!(!slices[2].trusted);
    }

    #[test]
    fn every_step_in_exactly_one_slice() {
        let steps: Vec<_> = (1..=20)
            .map(|n| step(n, n % 5 != 0, (n % 7 == 0).then_some(n)))
            .collect();
        let slices = slice_steps(&steps, &Placement::default());
        let all: Vec<usize> = slices.iter().flat_map(|s| s.steps.clone()).collect();
        assert_eq!(all, (1..=20).collect::<Vec<_>>());
    }
}
