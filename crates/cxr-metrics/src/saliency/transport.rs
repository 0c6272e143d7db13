//! Exact minimum-cost transport between two small histograms (the EMD of the saliency benchmark).
//!
//! The network simplex for the transportation problem (Dantzig's u–v method): a spanning tree of basic cells,
//! potentials `u_i + v_j = c_ij` on it, the cell of most negative reduced cost entering, the blocking cell of
//! its cycle leaving. The first tree comes from the least-cost rule, which on grid distances is already close
//! to optimal, so a 7×7 problem needs a few dozen pivots. Should the pivots not settle (degenerate cycling is
//! possible in principle), successive shortest paths finish the job; both are exact, so either gives the
//! optimum up to rounding.

/// Minimum cost of moving `supply` (n) onto `demand` (m) with `cost[i·m + j]` ≥ 0; totals equal up to
/// rounding (what is left over by rounding is not moved).
pub(super) fn min_cost(supply: &[f64], demand: &[f64], cost: &[f64]) -> f64 {
    let pivots = 50 * (supply.len() + demand.len()) + 100;
    network_simplex(supply, demand, cost, pivots).unwrap_or_else(|| shortest_paths(supply, demand, cost))
}

/// Union–find over rows and columns, for completing a forest of basic cells to a spanning tree.
fn root(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

/// The network simplex; `None` if `max_pivots` pivots did not reach optimality.
pub(super) fn network_simplex(supply: &[f64], demand: &[f64], c: &[f64], max_pivots: usize) -> Option<f64> {
    let (n, m) = (supply.len(), demand.len());
    if n == 0 || m == 0 {
        return Some(0.0);
    }
    // Nodes: rows 0..n, columns n..n+m.
    let nodes = n + m;
    // Least-cost rule: cheapest cells first, each allocation closing exactly one line (its row when both run
    // out), which yields a forest; zero-flow cells then join its components into a spanning tree.
    let mut order: Vec<u32> = (0..(n * m) as u32).collect();
    order.sort_by(|&a, &b| c[a as usize].total_cmp(&c[b as usize]));
    let (mut sup, mut dem) = (supply.to_vec(), demand.to_vec());
    let (mut row_open, mut col_open) = (vec![true; n], vec![true; m]);
    let mut cells: Vec<(usize, usize)> = Vec::with_capacity(nodes - 1);
    let mut flow: Vec<f64> = Vec::with_capacity(nodes - 1);
    let mut uf: Vec<usize> = (0..nodes).collect();
    for &cell in &order {
        if cells.len() == nodes - 1 {
            break;
        }
        let (i, j) = (cell as usize / m, cell as usize % m);
        if !row_open[i] || !col_open[j] {
            continue;
        }
        let x = sup[i].min(dem[j]);
        sup[i] -= x;
        dem[j] -= x;
        if sup[i] <= dem[j] {
            row_open[i] = false;
        } else {
            col_open[j] = false;
        }
        let (a, b) = (root(&mut uf, i), root(&mut uf, n + j));
        uf[a] = b;
        cells.push((i, j));
        flow.push(x);
    }
    for &cell in &order {
        if cells.len() == nodes - 1 {
            break;
        }
        let (i, j) = (cell as usize / m, cell as usize % m);
        let (a, b) = (root(&mut uf, i), root(&mut uf, n + j));
        if a != b {
            uf[a] = b;
            cells.push((i, j));
            flow.push(0.0);
        }
    }
    let max_cost = c.iter().fold(0.0f64, |a, &b| a.max(b));
    let tolerance = 1e-12 * (1.0 + max_cost);
    // Tree structure, rebuilt after every pivot (n + m is small): adjacency lists, then a walk from row 0
    // giving each node its parent edge, depth and potential.
    let mut head = vec![usize::MAX; nodes];
    let mut next = vec![usize::MAX; 2 * (nodes - 1)];
    let mut parent_edge = vec![usize::MAX; nodes];
    let mut depth = vec![0usize; nodes];
    let mut potential = vec![0.0f64; nodes];
    let mut stack = Vec::with_capacity(nodes);
    let mut seen = vec![false; nodes];
    let endpoints = |e: usize, cells: &[(usize, usize)]| (cells[e].0, n + cells[e].1);
    let mut path_up: Vec<usize> = Vec::with_capacity(nodes);
    let mut path_down: Vec<usize> = Vec::with_capacity(nodes);
    for _ in 0..=max_pivots {
        head.fill(usize::MAX);
        for (e, _) in cells.iter().enumerate() {
            let (a, b) = endpoints(e, &cells);
            next[2 * e] = head[a];
            head[a] = 2 * e;
            next[2 * e + 1] = head[b];
            head[b] = 2 * e + 1;
        }
        seen.fill(false);
        seen[0] = true;
        potential[0] = 0.0;
        depth[0] = 0;
        parent_edge[0] = usize::MAX;
        stack.clear();
        stack.push(0);
        while let Some(a) = stack.pop() {
            let mut slot = head[a];
            while slot != usize::MAX {
                let e = slot / 2;
                let (r, col) = endpoints(e, &cells);
                let b = if a == r { col } else { r };
                if !seen[b] {
                    seen[b] = true;
                    parent_edge[b] = e;
                    depth[b] = depth[a] + 1;
                    // u_i + v_j = c_ij along every tree edge.
                    potential[b] = c[cells[e].0 * m + cells[e].1] - potential[a];
                    stack.push(b);
                }
                slot = next[slot];
            }
        }
        if seen.iter().any(|&v| !v) {
            // Not a spanning tree (cannot happen by construction; checked so that it can never go unnoticed).
            return None;
        }
        // Pricing: the cell of most negative reduced cost c_ij − u_i − v_j.
        let (mut best, mut enter) = (-tolerance, usize::MAX);
        for i in 0..n {
            let row = &c[i * m..][..m];
            let u = potential[i];
            for (j, &cij) in row.iter().enumerate() {
                let reduced = cij - u - potential[n + j];
                if reduced < best {
                    best = reduced;
                    enter = i * m + j;
                }
            }
        }
        if enter == usize::MAX {
            return Some(cells.iter().zip(&flow).map(|(&(i, j), f)| f * c[i * m + j]).sum());
        }
        let (ei, ej) = (enter / m, enter % m);
        // The cycle: the tree path from column ej to row ei, closed by the entering cell. Edges along it
        // alternate −, +, −, … starting at the column (the entering cell is +).
        path_up.clear();
        path_down.clear();
        let (mut a, mut b) = (n + ej, ei);
        while a != b {
            if depth[a] >= depth[b] {
                let e = parent_edge[a];
                path_up.push(e);
                let (r, col) = endpoints(e, &cells);
                a = if a == r { col } else { r };
            } else {
                let e = parent_edge[b];
                path_down.push(e);
                let (r, col) = endpoints(e, &cells);
                b = if b == r { col } else { r };
            }
        }
        let cycle = path_up.iter().chain(path_down.iter().rev());
        let (mut theta, mut leave) = (f64::INFINITY, usize::MAX);
        for (k, &e) in cycle.clone().enumerate() {
            if k % 2 == 0 && flow[e] < theta {
                theta = flow[e];
                leave = e;
            }
        }
        if leave == usize::MAX {
            return None;
        }
        for (k, &e) in cycle.enumerate() {
            if k % 2 == 0 {
                flow[e] -= theta;
            } else {
                flow[e] += theta;
            }
        }
        cells[leave] = (ei, ej);
        flow[leave] = theta;
    }
    None
}

/// Successive shortest augmenting paths (Dijkstra on reduced costs, dense) in the residual bipartite graph.
pub(super) fn shortest_paths(supply: &[f64], demand: &[f64], c: &[f64]) -> f64 {
    let (n, m) = (supply.len(), demand.len());
    let tiny = 1e-15;
    let mut flow = vec![0.0f64; n * m];
    let (mut sup, mut dem) = (supply.to_vec(), demand.to_vec());
    // Potentials keep reduced costs non-negative: pi_s for sources, pi_t for sinks.
    let (mut pi_s, mut pi_t) = (vec![0.0f64; n], vec![0.0f64; m]);
    let (mut ds, mut dt) = (vec![0.0; n], vec![0.0; m]);
    let (mut done_s, mut done_t) = (vec![false; n], vec![false; m]);
    let mut prev_t = vec![usize::MAX; m]; // source that reached sink j
    let mut prev_s = vec![usize::MAX; n]; // sink whose reverse edge reached source i
    loop {
        if sup.iter().all(|&v| v <= tiny) || dem.iter().all(|&v| v <= tiny) {
            break;
        }
        // Dijkstra from every source with supply left.
        for i in 0..n {
            ds[i] = if sup[i] > tiny { 0.0 } else { f64::INFINITY };
            prev_s[i] = usize::MAX;
        }
        dt.fill(f64::INFINITY);
        prev_t.fill(usize::MAX);
        done_s.fill(false);
        done_t.fill(false);
        let mut stop_at: Option<(usize, f64)> = None;
        loop {
            // The closest unfinished node on either side.
            let (mut best, mut side, mut at) = (f64::INFINITY, 0u8, usize::MAX);
            for i in 0..n {
                if !done_s[i] && ds[i] < best {
                    (best, side, at) = (ds[i], 0, i);
                }
            }
            for j in 0..m {
                if !done_t[j] && dt[j] < best {
                    (best, side, at) = (dt[j], 1, j);
                }
            }
            if at == usize::MAX {
                break;
            }
            if side == 1 && dem[at] > tiny {
                // The nearest sink with demand left: stop here (the usual early exit; potentials below are
                // capped at this distance so reduced costs stay non-negative).
                done_t[at] = true;
                stop_at = Some((at, best));
                break;
            }
            if side == 0 {
                done_s[at] = true;
                let row = &c[at * m..][..m];
                for j in 0..m {
                    if done_t[j] {
                        continue;
                    }
                    // Reduced costs are ≥ 0 up to rounding; clamp so that rounding cannot reorder the search.
                    let nd = best + (row[j] + pi_s[at] - pi_t[j]).max(0.0);
                    if nd < dt[j] {
                        dt[j] = nd;
                        prev_t[j] = at;
                    }
                }
            } else {
                done_t[at] = true;
                for i in 0..n {
                    if !done_s[i] && flow[i * m + at] > tiny {
                        let nd = best + (-c[i * m + at] + pi_t[at] - pi_s[i]).max(0.0);
                        if nd < ds[i] {
                            ds[i] = nd;
                            prev_s[i] = at;
                        }
                    }
                }
            }
        }
        let Some((end, cap)) = stop_at else {
            break;
        };
        // Potentials: finalised nodes by their distance, all others by the path's length.
        for i in 0..n {
            pi_s[i] += if done_s[i] { ds[i] } else { cap };
        }
        for j in 0..m {
            pi_t[j] += if done_t[j] { dt[j] } else { cap };
        }
        // Walk back to find the bottleneck, then augment.
        let mut amount = dem[end];
        let mut j = end;
        let start = loop {
            let i = prev_t[j];
            if prev_s[i] == usize::MAX {
                break i;
            }
            let back = prev_s[i];
            amount = amount.min(flow[i * m + back]);
            j = back;
        };
        amount = amount.min(sup[start]);
        let mut j = end;
        loop {
            let i = prev_t[j];
            flow[i * m + j] += amount;
            if prev_s[i] == usize::MAX {
                break;
            }
            let back = prev_s[i];
            flow[i * m + back] -= amount;
            j = back;
        }
        sup[start] -= amount;
        dem[end] -= amount;
    }
    flow.iter().zip(c).map(|(f, c)| f * c).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::splitmix64;

    /// Random histograms on a `side × side` grid with Euclidean costs, some bins empty, totals equal.
    fn problem(seed: u64, n: usize, m: usize, zeros: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut k = 0;
        let mut next = || {
            k += 1;
            (splitmix64(seed, k) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut hist = |len: usize| -> Vec<f64> {
            let v: Vec<f64> = (0..len).map(|i| if zeros && i > 0 && next() < 0.3 { 0.0 } else { next() }).collect();
            let t: f64 = v.iter().sum();
            v.iter().map(|x| x / t).collect()
        };
        let (a, b) = (hist(n), hist(m));
        let pos = |i: usize, side: usize| ((i / side) as f64, (i % side) as f64);
        let mut cost = Vec::new();
        for i in 0..n {
            for j in 0..m {
                let (p, q) = (pos(i, 5), pos(j + 3, 6));
                cost.push(((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt());
            }
        }
        (a, b, cost)
    }

    #[test]
    fn the_simplex_and_shortest_paths_agree() {
        for seed in 0..200 {
            let (n, m) = (1 + seed as usize % 13, 1 + (seed as usize * 7) % 17);
            let (a, b, c) = problem(seed, n, m, seed % 3 == 0);
            let simplex = network_simplex(&a, &b, &c, 10_000).expect("settles");
            let paths = shortest_paths(&a, &b, &c);
            assert!((simplex - paths).abs() <= 1e-12 * (1.0 + paths), "seed {seed}: {simplex} vs {paths}");
        }
    }

    #[test]
    fn integral_problems_have_their_known_optimum() {
        // Two units at 0 and 1 go to 2 and 3 on a line: 2 + 2 = 4 either way.
        let cost = [2.0, 3.0, 1.0, 2.0];
        assert_eq!(network_simplex(&[1.0, 1.0], &[1.0, 1.0], &cost, 100), Some(4.0));
        // Degenerate: equal partial sums make the least-cost rule exhaust a row and a column together.
        let cost = [0.0, 1.0, 1.0, 0.0];
        assert_eq!(network_simplex(&[0.5, 0.5], &[0.5, 0.5], &cost, 100), Some(0.0));
        assert_eq!(min_cost(&[], &[], &[]), 0.0);
    }

    #[test]
    fn too_few_pivots_hand_over_to_shortest_paths() {
        // A problem whose least-cost start is not optimal, so that no pivots allowed means no answer.
        let (a, b, c) = (0..50)
            .map(|seed| problem(seed, 9, 11, false))
            .find(|(a, b, c)| network_simplex(a, b, c, 0).is_none())
            .expect("some start needs a pivot");
        let full = min_cost(&a, &b, &c);
        assert!((full - shortest_paths(&a, &b, &c)).abs() < 1e-12);
    }
}
