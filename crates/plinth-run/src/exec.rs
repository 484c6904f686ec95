//! `plinth exec`: any engine command in an instance's context — its data dir, backend,
//! generated var file, credentials and secrets — attached to the terminal.

use std::sync::Arc;
use std::time::Instant;

use crate::context::RunContext;
use crate::inputs::InputError;
use crate::report::{InstanceReport, InstanceStatus};
use crate::saved::{PlanFiles, write_json};

/// Engine subcommands that take `-var-file`; the generated one reaches them through
/// `TF_CLI_ARGS_<command>`, so commands that refuse the flag (`state list`) still run.
const TAKES_VARS: &[&str] = &[
    "plan", "apply", "destroy", "refresh", "import", "console", "test",
];

impl RunContext {
    /// Runs the engine with `args` in the context of `stack`, after a header on stderr.
    pub async fn exec_instance(
        self: Arc<Self>,
        stack: String,
        args: Vec<String>,
    ) -> InstanceReport {
        let started = Instant::now();
        let files = PlanFiles::new(&self.layout, &self.run_id, &stack);
        let report = self.exec(&stack, &args, &files).await;
        let mut report = report;
        report.duration_ms = started.elapsed().as_millis() as u64;
        let _ = self.events.send(crate::Event::Finished(report.clone()));
        report
    }

    async fn exec(&self, stack: &str, args: &[String], files: &PlanFiles) -> InstanceReport {
        let failed = |why: String| InstanceReport::new(stack, InstanceStatus::Failed).because(why);
        if let Err(e) = std::fs::create_dir_all(&files.dir) {
            return failed(format!("{}: {e}", files.dir.display()));
        }
        let backend = match self.backend(stack) {
            Ok(b) => b,
            Err(e) => return failed(e),
        };
        let secrets = match self.secrets(stack).await {
            Ok(s) => s,
            Err(e) => return InstanceReport::new(stack, InstanceStatus::Blocked).because(e),
        };
        let mut inv = self.invocation(stack, &backend, secrets.env, secrets.masks);
        let log = files.log();
        if let Err(e) = self.init(stack, &inv, &backend, &log).await {
            return failed(self.engine_failure(stack, e.to_string(), &log));
        }
        // Commands such as `state list` need no variables: an instance whose inputs cannot
        // be resolved (an upstream without state) still runs, without the var file.
        let note = match self.inputs(stack, true).await {
            Ok(inputs) => {
                let var_file = inv.data_dir.join("plinth.tfvars.json");
                if let Err(e) = write_json(&var_file, &inputs.vars) {
                    return failed(format!("{}: {e}", var_file.display()));
                }
                for cmd in TAKES_VARS {
                    inv.env.push((
                        format!("TF_CLI_ARGS_{cmd}"),
                        format!("-var-file={}", var_file.display()),
                    ));
                }
                None
            }
            Err(InputError::Blocked(m) | InputError::Failed(m)) => {
                Some(format!("without its variables: {m}"))
            }
        };
        eprintln!(
            "── {}/{stack} ── {} {}{}",
            self.env(),
            self.engine
                .binary
                .file_name()
                .map_or_else(|| "engine".into(), |n| n.to_string_lossy().into_owned()),
            args.join(" "),
            note.as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = inv.run_attached(&argv).await;
        // `state rm`, `import` and friends change the state: later reads must see it.
        self.states.refresh(stack, self.read_state(stack).await);
        match result {
            Ok(exit) if exit.code == 0 => InstanceReport::new(stack, InstanceStatus::Succeeded),
            Ok(exit) => failed(format!("exit {}", exit.code)).with_exit(exit.code),
            Err(e) => failed(e.to_string()),
        }
    }
}
