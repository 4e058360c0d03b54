//! Solution blocks in one source file, and the two ways to cut them out.
//!
//! A block is a `// SOLUTION BEGIN` line, the reference's lines, a
//! `// SOLUTION END` line, and at once one or more `// HANDOUT:` lines
//! whose text (after `HANDOUT:` and one space) replaces the block in a
//! handout, at the indentation of the BEGIN line. `// HANDOUT:` with
//! nothing after it is an empty replacement.
//!
//! Guarantees: [`parse`] accepts a file only if every block is closed, none
//! is nested, each is followed by its HANDOUT lines and no HANDOUT line
//! stands anywhere else; otherwise it names the first problem's line.
//! [`Parsed::handout`] and [`Parsed::solution`] keep every other line
//! byte for byte.

/// The marker that opens a block (alone on its line, any indentation).
pub const BEGIN: &str = "// SOLUTION BEGIN";
/// The marker that closes a block.
pub const END: &str = "// SOLUTION END";
/// The prefix of a replacement line.
pub const HANDOUT: &str = "// HANDOUT:";

/// A problem with the markers of a file, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    /// The line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One solution block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The line of its BEGIN marker (1-based).
    pub begin_line: usize,
    /// The reference's lines, with their line numbers.
    pub solution: Vec<(usize, String)>,
    /// The handout's lines, indented as the BEGIN marker.
    pub handout: Vec<String>,
}

/// A piece of a file: text outside blocks, or a block.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Line(usize, String),
    Block(Block),
}

/// A file split into the lines outside blocks and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pieces: Vec<Piece>,
    trailing_newline: bool,
}

/// Whether `line` is a marker line of kind `marker`.
fn is(line: &str, marker: &str) -> bool {
    line.trim() == marker
}

/// Whether `line` mentions any marker as its whole content (used to find
/// markers where they must not be).
pub fn is_marker_line(line: &str) -> bool {
    let t = line.trim();
    t == BEGIN || t == END || t.starts_with(HANDOUT)
}

/// Splits `text` into lines outside blocks and blocks.
pub fn parse(text: &str) -> Result<Parsed, MarkerError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let n = i + 1;
        if is(line, END) {
            return Err(MarkerError {
                line: n,
                message: format!("`{END}` without a `{BEGIN}` before it"),
            });
        }
        if line.trim().starts_with(HANDOUT) {
            return Err(MarkerError {
                line: n,
                message: format!("`{HANDOUT}` line that does not follow a `{END}`"),
            });
        }
        if !is(line, BEGIN) {
            pieces.push(Piece::Line(n, line.to_string()));
            i += 1;
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut solution = Vec::new();
        let mut j = i + 1;
        loop {
            let Some(l) = lines.get(j) else {
                return Err(MarkerError {
                    line: n,
                    message: format!("`{BEGIN}` is never closed by a `{END}`"),
                });
            };
            if is(l, BEGIN) {
                return Err(MarkerError {
                    line: j + 1,
                    message: format!(
                        "`{BEGIN}` inside the block opened at line {n} (blocks do not nest)"
                    ),
                });
            }
            if l.trim().starts_with(HANDOUT) {
                return Err(MarkerError {
                    line: j + 1,
                    message: format!("`{HANDOUT}` inside the block opened at line {n}"),
                });
            }
            if is(l, END) {
                break;
            }
            solution.push((j + 1, l.to_string()));
            j += 1;
        }
        let end_line = j + 1;
        j += 1;
        let mut handout = Vec::new();
        while let Some(l) = lines.get(j) {
            let t = l.trim_start();
            let Some(rest) = t.strip_prefix(HANDOUT) else {
                break;
            };
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            if !rest.trim().is_empty() {
                handout.push(format!("{indent}{rest}"));
            }
            j += 1;
        }
        if j == end_line {
            return Err(MarkerError {
                line: end_line,
                message: format!(
                    "the block opened at line {n} has no `{HANDOUT}` line after its `{END}` \
                     (what replaces it in the handout; `{HANDOUT}` alone for nothing)"
                ),
            });
        }
        pieces.push(Piece::Block(Block {
            begin_line: n,
            solution,
            handout,
        }));
        i = j;
    }
    Ok(Parsed {
        pieces,
        trailing_newline: text.ends_with('\n'),
    })
}

impl Parsed {
    /// The file's blocks, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Block(b) => Some(b),
            Piece::Line(..) => None,
        })
    }

    /// The lines outside every block.
    pub fn outside(&self) -> impl Iterator<Item = (usize, &str)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Line(n, l) => Some((*n, l.as_str())),
            Piece::Block(_) => None,
        })
    }

    /// The handout: each block replaced by its HANDOUT text.
    pub fn handout(&self) -> String {
        self.render(|b| b.handout.clone())
    }

    /// The reference without its markers: each block's own lines.
    pub fn solution(&self) -> String {
        self.render(|b| b.solution.iter().map(|(_, l)| l.clone()).collect())
    }

    fn render(&self, block: impl Fn(&Block) -> Vec<String>) -> String {
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Line(_, l) => out.push(l.clone()),
                Piece::Block(b) => out.extend(block(b)),
            }
        }
        let mut text = out.join("\n");
        if self.trailing_newline {
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Sources are built with escapes, so that no line of this file is a
    // marker line itself (the handout checks every framework file).
    fn src(lines: &[&str]) -> String {
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }

    const B: &str = "    // SOLUTION BEGIN";
    const E: &str = "    // SOLUTION END";

    #[test]
    fn a_block_is_replaced_at_its_indentation() {
        let text = src(&[
            "fn f(x: u8) -> u8 {",
            B,
            "    x + 1",
            E,
            "    // HANDOUT: let _ = x;",
            "    // HANDOUT: labrpc::not_implemented!(\"Lab 1\")",
            "}",
        ]);
        let p = parse(&text).unwrap();
        assert_eq!(
            p.handout(),
            src(&[
                "fn f(x: u8) -> u8 {",
                "    let _ = x;",
                "    labrpc::not_implemented!(\"Lab 1\")",
                "}"
            ])
        );
        assert_eq!(
            p.solution(),
            src(&["fn f(x: u8) -> u8 {", "    x + 1", "}"])
        );
        let b: Vec<_> = p.blocks().collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].begin_line, 2);
        assert_eq!(b[0].solution, vec![(3, "    x + 1".to_string())]);
        assert_eq!(p.outside().map(|(n, _)| n).collect::<Vec<_>>(), [1, 7]);
    }

    #[test]
    fn an_empty_handout_line_removes_the_block() {
        let text = src(&["a", B, "b", E, "    // HANDOUT:", "c"]);
        assert_eq!(parse(&text).unwrap().handout(), src(&["a", "c"]));
    }

    #[test]
    fn text_without_blocks_is_unchanged() {
        for text in ["", "x", "x\n", "a\n\nb\n\n"] {
            let p = parse(text).unwrap();
            assert_eq!(p.handout(), text);
            assert_eq!(p.solution(), text);
        }
    }

    #[test]
    fn every_misuse_names_its_line() {
        let cases: &[(&[&str], usize, &str)] = &[
            (&["a", B, "b"], 2, "never closed"),
            (&["a", E], 2, "without a"),
            (&[B, B, E, "// HANDOUT: x"], 2, "do not nest"),
            (&[B, "x", E, "y"], 3, "no `// HANDOUT:` line"),
            (&["x", "    // HANDOUT: y"], 2, "does not follow"),
            (
                &[B, "  // HANDOUT: y", E, "// HANDOUT:"],
                2,
                "inside the block",
            ),
        ];
        for (lines, line, what) in cases {
            let e = parse(&src(lines)).unwrap_err();
            assert_eq!(e.line, *line, "{lines:?}: {e:?}");
            assert!(e.message.contains(what), "{lines:?}: {e:?}");
        }
    }

    #[test]
    fn marker_lines_are_recognised_by_their_whole_content() {
        assert!(is_marker_line(B));
        assert!(is_marker_line("// HANDOUT: x"));
        assert!(!is_marker_line("let m = \"// SOLUTION BEGIN\";"));
    }
}
