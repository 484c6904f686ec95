//! Shapes at the edge of what repositories have: a dependency chain 20,000 stacks deep, and
//! 10,000 environments. Graph walks are iterative and environments share a bounded pool, so
//! both work (they once overflowed the stack and spawned a thread each).

mod support;

use support::{Fixture, code, stderr};

#[test]
fn a_chain_of_20000_stacks_lists_and_layers() {
    let f = Fixture::in_memory();
    f.write("plinth.hcl", "environment \"dev\" {}\n");
    const N: usize = 20_000;
    for i in 0..N {
        let text = if i == 0 {
            String::new()
        } else {
            format!("stack {{\n  after = [\"s{:05}\"]\n}}\n", i - 1)
        };
        f.write(&format!("s{i:05}/stack.hcl"), &text);
    }
    let out = f.plinth(&["graph", "dev", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), N, "one stack per layer");
    assert_eq!(layers[N - 1][0], format!("s{:05}", N - 1));
    let out = f.plinth(&["ls", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["instances"].as_array().unwrap().len(), N);
}

#[test]
fn ten_thousand_environments_list_without_a_thread_each() {
    let f = Fixture::in_memory();
    const N: usize = 10_000;
    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!("environment \"e{i}\" {{}}\n"));
    }
    f.write("plinth.hcl", &text)
        .write("net/stack.hcl", "")
        .write(
            "app/stack.hcl",
            "dependency \"net\" {\n  stack = \"net\"\n}\n",
        );
    let out = f.plinth(&["ls", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["instances"].as_array().unwrap().len(), 2 * N);
}
