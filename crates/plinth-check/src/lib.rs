//! Governance checks over stack code and plans.
