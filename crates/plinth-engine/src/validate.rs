//! Engine-backed code checks: `fmt -check` and `validate` per stack.
