//! Who may send to whom: a directed graph of processes, every one of them
//! reachable from every other (a snapshot's markers must reach everyone).

use std::collections::BTreeSet;
use std::fmt;

use crate::framework::app::ProcId;

/// A strongly connected directed graph on processes `0..n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    n: usize,
    edges: BTreeSet<(ProcId, ProcId)>,
    name: String,
}

impl Topology {
    /// A one-way ring: `p -> p+1 (mod n)`. Needs `n >= 2`.
    pub fn ring(n: usize) -> Topology {
        assert!(n >= 2, "a ring needs two processes");
        let edges = (0..n).map(|p| (p, (p + 1) % n)).collect();
        Topology::from_edges(n, edges, format!("ring of {n}"))
    }

    /// Every process to every other.
    pub fn complete(n: usize) -> Topology {
        assert!(n >= 2, "a graph needs two processes");
        let edges = (0..n)
            .flat_map(|p| (0..n).filter(move |&q| q != p).map(move |q| (p, q)))
            .collect();
        Topology::from_edges(n, edges, format!("complete graph of {n}"))
    }

    /// A one-way ring through a random order of the processes, plus each
    /// other edge with probability `p` (drawn from the simulation's RNG:
    /// call it inside a simulation).
    pub fn random(n: usize, p: f64) -> Topology {
        assert!(n >= 2, "a graph needs two processes");
        let mut order: Vec<ProcId> = (0..n).collect();
        labrpc::rand::shuffle(&mut order);
        let mut edges: BTreeSet<(ProcId, ProcId)> =
            (0..n).map(|i| (order[i], order[(i + 1) % n])).collect();
        for a in 0..n {
            for b in 0..n {
                if a != b && labrpc::rand::gen_bool(p) {
                    edges.insert((a, b));
                }
            }
        }
        let name = format!("random graph of {n} ({} channels)", edges.len());
        Topology::from_edges(n, edges, name)
    }

    fn from_edges(n: usize, edges: BTreeSet<(ProcId, ProcId)>, name: String) -> Topology {
        Topology { n, edges, name }
    }

    /// Number of processes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a topology has at least two processes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Every channel `(from, to)`, in order.
    pub fn channels(&self) -> impl Iterator<Item = (ProcId, ProcId)> + '_ {
        self.edges.iter().copied()
    }

    /// The processes `p` receives from, in order.
    pub fn inbound(&self, p: ProcId) -> Vec<ProcId> {
        self.edges
            .iter()
            .filter(|&&(_, to)| to == p)
            .map(|&(from, _)| from)
            .collect()
    }

    /// The processes `p` sends to, in order.
    pub fn outbound(&self, p: ProcId) -> Vec<ProcId> {
        self.edges
            .iter()
            .filter(|&&(from, _)| from == p)
            .map(|&(_, to)| to)
            .collect()
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
