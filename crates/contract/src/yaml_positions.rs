//! Where each value of a YAML document stands in its text, keyed by JSON
//! path. The value itself comes from `serde_yaml_ng`, which keeps no
//! positions; this second, event-level pass over the text (with `saphyr`'s
//! marked events) lets schema errors point at a line and column.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

use crate::json_path::JsonPath;

/// A place in the YAML text; both numbers start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// Positions of the values (and of the mapping keys) of the first document.
#[derive(Debug, Default)]
pub(crate) struct PositionMap {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
    /// The first key a mapping gives twice (its path, and where the
    /// second one stands): `serde_yaml_ng` would keep the later value.
    repeated_key: Option<(String, Position)>,
}

impl PositionMap {
    /// Reads `source` as far as the parser gets; a document it cannot read
    /// (or a part behind an alias or a complex key) simply has no entries,
    /// and lookups fall back to the nearest enclosing value.
    pub(crate) fn build(source: &str) -> Self {
        let mut walk = Walk::default();
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            let position = Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            match event {
                Event::Scalar(text, ..) => walk.node(Node::Scalar(&text), position),
                Event::Alias(_) => walk.node(Node::Alias, position),
                Event::SequenceStart(..) => walk.node(Node::Sequence, position),
                Event::MappingStart(..) => walk.node(Node::Mapping, position),
                Event::SequenceEnd | Event::MappingEnd => walk.end_collection(),
                // Only the first document is the contract.
                Event::DocumentEnd | Event::StreamEnd => break,
                Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => {}
            }
        }
        walk.map
    }

    /// The position of the value at `path`, or else of the nearest value that
    /// encloses it.
    pub(crate) fn value_or_ancestor(&self, path: &JsonPath) -> Option<Position> {
        path.self_and_ancestors()
            .find_map(|candidate| self.values.get(candidate).copied())
    }

    /// The first key a mapping gives twice, with where its second
    /// occurrence stands.
    pub(crate) fn repeated_key(&self) -> Option<(&str, Position)> {
        self.repeated_key
            .as_ref()
            .map(|(path, position)| (path.as_str(), *position))
    }

    /// The position of the key that names the value at `path`, or else as
    /// [`Self::value_or_ancestor`].
    pub(crate) fn key_or_ancestor(&self, path: &JsonPath) -> Option<Position> {
        self.keys
            .get(path.as_str())
            .copied()
            .or_else(|| self.value_or_ancestor(path))
    }
}

enum Node<'a> {
    Scalar(&'a str),
    Alias,
    Sequence,
    Mapping,
}

impl Node<'_> {
    fn is_collection(&self) -> bool {
        matches!(self, Node::Sequence | Node::Mapping)
    }
}

/// An open sequence or mapping, and whether it added a segment to the path.
#[derive(Debug)]
enum Frame {
    Sequence { next_index: usize, pushed: bool },
    Mapping { state: MappingState, pushed: bool },
}

#[derive(Debug)]
enum MappingState {
    ExpectKey,
    ExpectValue(String),
    /// The key was not a scalar: its value has no JSON path of its own.
    SkipValue,
}

#[derive(Debug, Default)]
struct Walk {
    map: PositionMap,
    path: JsonPath,
    frames: Vec<Frame>,
    /// Depth inside a collection that has no JSON path (a complex key or its
    /// value); events there are only counted, not recorded.
    skip_depth: usize,
}

impl Walk {
    fn node(&mut self, node: Node<'_>, position: Position) {
        if self.skip_depth > 0 {
            if node.is_collection() {
                self.skip_depth += 1;
            }
            return;
        }
        let pushed = match self.frames.last_mut() {
            None => false,
            Some(Frame::Sequence { next_index, .. }) => {
                self.path.push_index(*next_index);
                *next_index += 1;
                true
            }
            Some(Frame::Mapping { state, .. }) => {
                match std::mem::replace(state, MappingState::ExpectKey) {
                    MappingState::ExpectKey => {
                        if let Node::Scalar(key) = node {
                            self.path.push_key(key);
                            let key_path = self.path.as_str().to_owned();
                            let earlier = self.map.keys.insert(key_path.clone(), position);
                            if earlier.is_some() && self.map.repeated_key.is_none() {
                                self.map.repeated_key = Some((key_path, position));
                            }
                            self.path.pop();
                            *state = MappingState::ExpectValue(key.to_owned());
                        } else {
                            *state = MappingState::SkipValue;
                            self.skip_depth = usize::from(node.is_collection());
                        }
                        return;
                    }
                    MappingState::ExpectValue(key) => {
                        self.path.push_key(&key);
                        true
                    }
                    MappingState::SkipValue => {
                        self.skip_depth = usize::from(node.is_collection());
                        return;
                    }
                }
            }
        };
        self.map
            .values
            .insert(self.path.as_str().to_owned(), position);
        match node {
            Node::Sequence => self.frames.push(Frame::Sequence {
                next_index: 0,
                pushed,
            }),
            Node::Mapping => self.frames.push(Frame::Mapping {
                state: MappingState::ExpectKey,
                pushed,
            }),
            Node::Scalar(_) | Node::Alias => {
                if pushed {
                    self.path.pop();
                }
            }
        }
    }

    fn end_collection(&mut self) {
        if self.skip_depth > 0 {
            self.skip_depth -= 1;
            return;
        }
        let pushed = match self.frames.pop() {
            Some(Frame::Sequence { pushed, .. } | Frame::Mapping { pushed, .. }) => pushed,
            None => false,
        };
        if pushed {
            self.path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[&str]) -> JsonPath {
        let mut path = JsonPath::default();
        for segment in segments {
            match segment.parse::<usize>() {
                Ok(index) => path.push_index(index),
                Err(_) => path.push_key(segment),
            }
        }
        path
    }

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    const DOC: &str = "\
apiVersion: v3.0.2
schema:
  - name: orders
    properties:
      - name: id
        logicalType: string
      - { name: note, logicalType: \"strin\" }
tags: [a, b]
";

    #[test]
    fn finds_block_and_flow_values() {
        let map = PositionMap::build(DOC);
        let get = |segments: &[&str]| map.value_or_ancestor(&path(segments));
        assert_eq!(get(&[]), at(1, 1));
        assert_eq!(get(&["apiVersion"]), at(1, 13));
        assert_eq!(get(&["schema"]), at(3, 3));
        assert_eq!(get(&["schema", "0", "name"]), at(3, 11));
        assert_eq!(
            get(&["schema", "0", "properties", "0", "logicalType"]),
            at(6, 22)
        );
        assert_eq!(get(&["schema", "0", "properties", "1"]), at(7, 9));
        assert_eq!(
            get(&["schema", "0", "properties", "1", "logicalType"]),
            at(7, 36) // a quoted scalar starts at its quote
        );
        assert_eq!(get(&["tags", "1"]), at(8, 11));
    }

    #[test]
    fn falls_back_to_the_nearest_known_value() {
        let map = PositionMap::build(DOC);
        let missing = path(&["schema", "0", "properties", "0", "nothing", "here"]);
        assert_eq!(map.value_or_ancestor(&missing), at(5, 9));
        let key = path(&["schema", "0", "properties", "0", "logicalType"]);
        assert_eq!(map.key_or_ancestor(&key), at(6, 9));
    }

    #[test]
    fn complex_keys_do_not_shift_later_paths() {
        let doc = "? [a, b]\n: { x: 1 }\nafter: 2\n";
        let map = PositionMap::build(doc);
        assert_eq!(map.value_or_ancestor(&path(&["after"])), at(3, 8));
    }

    #[test]
    fn unreadable_text_gives_only_what_was_read() {
        let map = PositionMap::build("a: 1\nb: [\n");
        assert_eq!(map.value_or_ancestor(&path(&["a"])), at(1, 4));
    }
}
