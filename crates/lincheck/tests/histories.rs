//! The checker on known histories: linearizable ones pass, and each kind
//! of violation a faulty replicated store can show is caught.

#![allow(clippy::unwrap_used)] // test fixtures: a failure here is a broken test

use proptest::prelude::*;
use runink_lincheck::{
    KvInput, KvModel, KvOutput, Operation, SearchBudget, Verdict, check, check_partitioned,
};

const NEVER: u64 = Operation::<KvInput, KvOutput>::NEVER_RETURNED;

fn write(key: &str, value: u64, call: u64, ret: u64) -> Operation<KvInput, KvOutput> {
    Operation {
        client: 1,
        input: KvInput::Write {
            key: key.into(),
            value,
        },
        output: if ret == NEVER {
            KvOutput::Unknown
        } else {
            KvOutput::Written
        },
        call,
        ret,
    }
}

fn read(key: &str, seen: Option<u64>, call: u64, ret: u64) -> Operation<KvInput, KvOutput> {
    Operation {
        client: 2,
        input: KvInput::Read { key: key.into() },
        output: KvOutput::Read(seen),
        call,
        ret,
    }
}

fn cas(
    key: &str,
    expected: Option<u64>,
    new: u64,
    swapped: bool,
    call: u64,
    ret: u64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client: 3,
        input: KvInput::CompareAndSet {
            key: key.into(),
            expected,
            new,
        },
        output: KvOutput::Swapped(swapped),
        call,
        ret,
    }
}

fn verdict(history: &[Operation<KvInput, KvOutput>]) -> Verdict {
    check_partitioned(&KvModel, history, SearchBudget::default())
}

fn linearizable(history: &[Operation<KvInput, KvOutput>]) -> bool {
    match verdict(history) {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable { .. } => false,
        Verdict::Unknown { key } => panic!("budget ran out on `{key}`"),
    }
}

#[test]
fn an_empty_history_and_sequential_reads_of_writes_pass() {
    assert!(linearizable(&[]));
    assert!(linearizable(&[
        read("x", None, 0, 1),
        write("x", 1, 2, 3),
        read("x", Some(1), 4, 5),
        write("x", 2, 6, 7),
        read("x", Some(2), 8, 9),
    ]));
}

#[test]
fn a_stale_read_after_an_acknowledged_write_is_caught() {
    // The write was acknowledged at 10; a read that starts at 20 must see it.
    assert!(!linearizable(&[
        write("x", 1, 0, 10),
        read("x", None, 20, 30)
    ]));
    // The same read overlapping the write may see either.
    assert!(linearizable(&[
        write("x", 1, 0, 25),
        read("x", None, 20, 30)
    ]));
    assert!(linearizable(&[
        write("x", 1, 0, 25),
        read("x", Some(1), 20, 30)
    ]));
}

#[test]
fn reading_an_older_value_after_a_newer_one_is_caught() {
    assert!(!linearizable(&[
        write("x", 1, 0, 10),
        write("x", 2, 20, 30),
        read("x", Some(1), 40, 50),
    ]));
    // Two concurrent writes: readers may see them in either order, but
    // not flip back and forth.
    assert!(linearizable(&[
        write("x", 1, 0, 100),
        write("x", 2, 0, 100),
        read("x", Some(2), 10, 20),
        read("x", Some(1), 30, 40),
    ]));
    assert!(!linearizable(&[
        write("x", 1, 0, 100),
        write("x", 2, 0, 100),
        read("x", Some(2), 10, 20),
        read("x", Some(1), 30, 40),
        read("x", Some(2), 50, 60),
    ]));
}

#[test]
fn a_value_nobody_wrote_is_caught() {
    assert!(!linearizable(&[
        write("x", 1, 0, 10),
        read("x", Some(7), 20, 30)
    ]));
}

#[test]
fn a_write_of_unknown_outcome_may_or_may_not_have_happened_but_not_both() {
    assert!(linearizable(&[
        write("x", 1, 0, NEVER),
        read("x", Some(1), 20, 30)
    ]));
    assert!(linearizable(&[
        write("x", 1, 0, NEVER),
        read("x", None, 20, 30)
    ]));
    // Seen, then unseen: once it took effect it stays.
    assert!(!linearizable(&[
        write("x", 1, 0, NEVER),
        read("x", Some(1), 20, 30),
        read("x", None, 40, 50),
    ]));
    // A lost acknowledged write is caught even beside unknown ones.
    assert!(!linearizable(&[
        write("x", 1, 0, 5),
        write("x", 2, 1, NEVER),
        read("x", None, 20, 30),
    ]));
}

#[test]
fn compare_and_set_must_agree_with_the_value_it_found() {
    assert!(linearizable(&[
        write("x", 1, 0, 10),
        cas("x", Some(1), 2, true, 20, 30),
        read("x", Some(2), 40, 50),
    ]));
    // Two compare-and-sets from the same value cannot both succeed.
    assert!(!linearizable(&[
        write("x", 1, 0, 10),
        cas("x", Some(1), 2, true, 20, 60),
        cas("x", Some(1), 3, true, 20, 60),
    ]));
    // A failed compare-and-set when the value matched is a violation.
    assert!(!linearizable(&[
        write("x", 1, 0, 10),
        cas("x", Some(1), 2, false, 20, 30)
    ]));
}

#[test]
fn keys_are_checked_apart_and_the_failing_key_is_named() {
    let history = [
        write("x", 1, 0, 10),
        read("x", Some(1), 20, 30),
        write("y", 1, 0, 10),
        read("y", None, 20, 30),
    ];
    match verdict(&history) {
        Verdict::NotLinearizable { key, operations } => {
            assert_eq!(key, "\"y\"");
            assert_eq!(operations, [2, 3]);
        }
        other => panic!("expected a violation on y, got {other:?}"),
    }
    // Checked as one partition, the same history fails too.
    assert!(matches!(
        check(&KvModel, &history, SearchBudget::default()),
        Verdict::NotLinearizable { .. }
    ));
}

#[test]
fn a_search_past_its_budget_is_unknown_never_a_pass() {
    let history: Vec<_> = (0..12)
        .map(|v| write("x", v, 0, 100))
        .chain([read("x", Some(99), 200, 300)])
        .collect();
    let tiny = SearchBudget { steps_max: 5 };
    assert_eq!(
        check_partitioned(&KvModel, &history, tiny),
        Verdict::Unknown {
            key: "\"x\"".into()
        }
    );
}

/// A history made by running operations one at a time at linearization
/// points chosen inside random intervals: linearizable by construction.
fn generated_history(ops: Vec<(bool, u8, u64, u64, u64)>) -> Vec<Operation<KvInput, KvOutput>> {
    // (is_write, key, start, length, point within the interval)
    let mut timed: Vec<(u64, usize)> = ops
        .iter()
        .enumerate()
        .map(|(i, &(_, _, start, length, point))| (start * 10 + point % (length * 10 + 1), i))
        .collect();
    timed.sort_unstable();
    let mut values = std::collections::BTreeMap::new();
    let mut history: Vec<Option<Operation<KvInput, KvOutput>>> = vec![None; ops.len()];
    for (_, i) in timed {
        let (is_write, key, start, length, _) = ops[i];
        let key = format!("k{}", key % 3);
        let (call, ret) = (start * 10, start * 10 + length * 10);
        history[i] = Some(if is_write {
            values.insert(key.clone(), i as u64);
            write(&key, i as u64, call, ret)
        } else {
            read(&key, values.get(&key).copied(), call, ret)
        });
    }
    history.into_iter().map(Option::unwrap).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn histories_from_a_real_order_pass_and_a_corrupted_read_fails(
        ops in prop::collection::vec((any::<bool>(), any::<u8>(), 0u64..50, 0u64..10, any::<u64>()), 1..40),
    ) {
        let history = generated_history(ops);
        prop_assert!(linearizable(&history));
        // A read that returns a value no one ever wrote cannot be explained.
        if let Some(index) = history.iter().position(|op| matches!(op.input, KvInput::Read { .. })) {
            let mut corrupted = history.clone();
            corrupted[index].output = KvOutput::Read(Some(u64::MAX));
            prop_assert!(!linearizable(&corrupted));
        }
    }
}
