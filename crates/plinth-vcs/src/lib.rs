//! Version-control queries (changed files) through the git CLI.
