//! Parsing and validation of plinth.hcl and stack.hcl.
