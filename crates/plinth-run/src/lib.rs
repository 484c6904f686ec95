//! Runs: plan, apply and destroy of an environment along the DAG, with history.
