//! The table of every rule, in id order, and the constructors it is written with.

use plinth_diag::Severity;

use super::{Category, Rule};
use Category::*;
use Severity::{Error, Warning};

const fn rule(
    id: &'static str,
    name: &'static str,
    category: Category,
    default_severity: Severity,
    message: &'static str,
    explanation: &'static str,
    hint: &'static str,
) -> Rule {
    Rule {
        id,
        name,
        category,
        default_severity,
        message,
        explanation,
        hint,
        unsuppressible: false,
        needs_engine: false,
        checkov: &[],
        project_only: false,
    }
}

const fn ckv(mut r: Rule, ids: &'static [&'static str]) -> Rule {
    r.checkov = ids;
    r
}

const fn convention(mut r: Rule) -> Rule {
    r.project_only = true;
    r
}

const fn engine(mut r: Rule) -> Rule {
    r.needs_engine = true;
    r
}

const fn locked(mut r: Rule) -> Rule {
    r.unsuppressible = true;
    r
}

/// Every rule plinth knows, in id order.
pub static RULES: &[Rule] = &[
    engine(rule(
        "FMT001",
        "engine-fmt",
        Hygiene,
        Error,
        "file is not formatted the way `terraform fmt` would format it",
        "Runs `terraform fmt -check -list=true` on every stack. Unformatted code hides real \
changes in review diffs.",
        "run `terraform fmt` in the stack directory",
    )),
    engine(rule(
        "FMT002",
        "engine-validate",
        Hygiene,
        Error,
        "`terraform validate` reports a problem",
        "Runs `terraform init -backend=false` and `terraform validate -json` on every stack, \
each in its own data directory under .plinth/check, and reports the engine's diagnostics at \
the place they point to.",
        "fix the configuration error the engine reports",
    )),
    rule(
        "FMT003",
        "required-version",
        Hygiene,
        Warning,
        "stack does not constrain the engine version",
        "Every stack (root module) sets `required_version` in a `terraform` block so that an \
engine upgrade is a reviewed change instead of a surprise.",
        "add `terraform { required_version = \">= 1.6\" }`",
    ),
    rule(
        "FMT004",
        "required-providers",
        Hygiene,
        Error,
        "provider requirement without a source or a version constraint",
        "Every entry of `required_providers` is an object with `source` and `version`, so that \
`init` resolves the same provider on every machine.",
        "write `name = { source = \"hashicorp/aws\", version = \"~> 5.0\" }`",
    ),
    rule(
        "FMT005",
        "variable-documented",
        Hygiene,
        Warning,
        "variable is missing a type or a description",
        "Variables are a stack's interface: each one declares a `type` and a `description`.",
        "add `type = …` and `description = \"…\"` to the variable block",
    ),
    rule(
        "FMT006",
        "output-documented",
        Hygiene,
        Warning,
        "output has no description",
        "Outputs are what other stacks consume through dependencies: each one says what it is.",
        "add `description = \"…\"` to the output block",
    ),
    locked(rule(
        "FMT007",
        "hcl-syntax",
        Hygiene,
        Error,
        "file is not valid HCL",
        "Every .tf, .tfvars and .hcl file must parse; nothing else can be checked in a file that \
does not.",
        "fix the syntax error at the position shown",
    )),
    ckv(
        locked(rule(
            "SCR001",
            "plaintext-secret",
            Secrets,
            Error,
            "plaintext secret in the repository",
            "Scans .tf, .tfvars and .hcl files for credentials: AWS access keys, private key blocks, \
Stripe live keys (`sk_live_`), GitHub tokens (`ghp_`, `github_pat_`), Slack tokens (`xox…`), \
Vault/OpenBao tokens (`hvs.`, `hvb.`), Terraform Cloud tokens (`….atlasv1.…`) and AWS secret \
access keys (`AWS_SECRET_ACCESS_KEY=…`), anywhere in strings and heredocs such as \
`user_data`; and literal string values of attributes and object keys named like a \
password, secret, token or key. The value decides: booleans, numbers, references \
(`$name`, `${…}`, `{{…}}`), enum words (`Inactive`), dotted names, placeholders \
(`changeme`, `EXAMPLE`, `<…>`), self-described demo values (`SuperSecretPassword`) and \
low-entropy strings are ignored. The message names the attribute that holds the value. A committed secret is leaked: \
rotate it, then move it to Vault/OpenBao or a `secret` block in plinth.hcl.",
            "rotate the credential, remove it from the code and read it from a `secret` in plinth.hcl",
        )),
        &[
            "CKV_SECRET_2",
            "CKV_SECRET_6",
            "CKV_SECRET_13",
            "CKV_SECRET_14",
            "CKV_SECRET_17",
            "CKV_SECRET_80",
        ],
    ),
    ckv(
        rule(
            "SCR002",
            "provider-credentials",
            Secrets,
            Error,
            "credentials written into a provider block",
            "Provider blocks never carry literal credentials (`access_key`, `secret_key`, `token`, \
`password`, `client_secret`…). plinth passes credentials through the environment's `env` and \
`secret` settings.",
            "remove the attribute; set credentials per environment in plinth.hcl",
        ),
        &["CKV_AWS_41", "CKV_SECRET_2"],
    ),
    rule(
        "SCR003",
        "secret-variable",
        Secrets,
        Error,
        "secret-looking variable is not sensitive or has a default",
        "A variable whose name looks like a secret (`*password*`, `*secret*`, `*token*`, \
`*private_key*`, `*api_key*`…), whose type is `string` (or unconstrained) and whose default \
is not a bool, number or collection, is marked `sensitive = true` (or `ephemeral = true`) and has no \
default, so the value never lands in the code or in logs. Names of settings about a secret \
(`max_password_age`, `create_access_key`, `access_key_status`, `*_arns`) are not secrets.",
        "set `sensitive = true` and remove the `default`",
    ),
    rule(
        "SCR004",
        "secret-output",
        Secrets,
        Error,
        "secret-looking output is not sensitive",
        "An output whose name looks like a secret is marked `sensitive = true` so that plan, \
apply and `plinth output` redact it. Outputs of derived values (`*_fingerprint`, \
`*_encrypted_*` PGP-encrypted values, `*_status`, `*_version_tokens`, ARNs) are not secrets.",
        "set `sensitive = true` on the output",
    ),
    rule(
        "SCR005",
        "secret-fed-variable",
        Secrets,
        Error,
        "a variable fed by a `secret` block is not sensitive",
        "A `secret` block of plinth.hcl hands its value to every stack that declares a \
variable of its name (as `TF_VAR_<name>`). Declared without `sensitive = true`, Terraform \
prints the value in plans and `terraform output` shows it. `plinth check` reports such \
variables for the environments the secret applies to (all of them without `--env`).",
        "declare the variable with `sensitive = true` (or `ephemeral = true`, Terraform ≥ 1.10, \
which also keeps it out of the plan file)",
    ),
    rule(
        "SCR006",
        "secret-rotation-due",
        Secrets,
        Warning,
        "a secret is older than its `rotate_every`",
        "With `--env ENV`, `plinth check` reads the metadata of every Vault/OpenBao secret \
of that environment whose `secret` block sets `rotate_every`, and reports one whose latest \
version is older. Values are never read for this.",
        "rotate it: `plinth secrets rotate NAME --env ENV --apply` (with a `generate` block), \
or write a new version in Vault",
    ),
    convention(rule(
        "ARC001",
        "no-remote-state",
        Architecture,
        Error,
        "stack reads another stack's state through terraform_remote_state",
        "Stacks consume each other's outputs through `dependency` blocks in stack.hcl, which \
plinth orders in the DAG and wires per environment. `terraform_remote_state` hides the \
dependency from the graph and hard-codes another instance's state location.",
        "declare a `dependency` in stack.hcl and take the value from `inputs`",
    )),
    rule(
        "ARC002",
        "no-hardcoded-ids",
        Architecture,
        Warning,
        "environment-specific id hard-coded in stack code",
        "Account ids, ARNs with a literal account and `vpc-`/`subnet-`/`sg-`/`ami-` ids differ \
per environment: they belong in environment config (plinth.hcl `vars`, .tfvars) or come from \
a dependency, not in stack code that every environment shares.",
        "pass the value in as a variable from the environment config or a dependency",
    ),
    ckv(
        rule(
            "ARC003",
            "module-pinned",
            Architecture,
            Error,
            "module source is not pinned",
            "Registry modules set `version`; git sources carry `?ref=` with a tag or a commit (not a \
branch like main/master). Local modules (`./…`, `../…`) are pinned by the repository itself.",
            "add `version = \"x.y.z\"` or `?ref=vX.Y.Z` to the source",
        ),
        &["CKV_TF_2"],
    ),
    convention(rule(
        "ARC004",
        "no-backend-in-code",
        Architecture,
        Error,
        "backend settings hard-coded in stack code",
        "plinth generates the backend configuration per environment and instance so that state \
is never shared. A `backend` block with settings (or a `cloud` block) fights that; an empty \
`backend \"s3\" {}` is allowed.",
        "remove the settings from the backend block; configure `state` in plinth.hcl",
    )),
    convention(rule(
        "ARC005",
        "stack-readme",
        Architecture,
        Warning,
        "stack has no README",
        "Every stack has a README.md saying what it owns and who to ask.",
        "add a README.md to the stack directory",
    )),
    convention(rule(
        "ARC006",
        "unplaced-module",
        Architecture,
        Warning,
        "directory of .tf files is neither a stack nor a module a stack calls",
        "Inside a plinth project every directory of `.tf` files is a stack (it has a stack.hcl) \
or a module a stack calls. Any other one is not planned or applied by plinth; it is still \
checked, as a module, and reported so that it is placed or removed.",
        "add a stack.hcl to make it a stack, call it from a stack, or remove it",
    )),
    ckv(
        rule(
            "SAF001",
            "s3-public-access-block",
            Safety,
            Warning,
            "S3 bucket without a full public access block",
            "Every `aws_s3_bucket` has an `aws_s3_bucket_public_access_block` in the same module \
with all four flags (`block_public_acls`, `block_public_policy`, `ignore_public_acls`, \
`restrict_public_buckets`) set to true.",
            "add an aws_s3_bucket_public_access_block for the bucket with all four flags true",
        ),
        &[
            "CKV2_AWS_6",
            "CKV_AWS_53",
            "CKV_AWS_54",
            "CKV_AWS_55",
            "CKV_AWS_56",
        ],
    ),
    ckv(
        rule(
            "SAF002",
            "s3-encryption",
            Safety,
            Warning,
            "S3 bucket without server-side encryption configuration",
            "Every `aws_s3_bucket` has an `aws_s3_bucket_server_side_encryption_configuration` (or \
the legacy inline `server_side_encryption_configuration` block; a stand-in may write \
`server_side_encryption = { sse_algorithm = … }` in its input).",
            "add an aws_s3_bucket_server_side_encryption_configuration for the bucket",
        ),
        &["CKV_AWS_19"],
    ),
    ckv(
        rule(
            "SAF003",
            "s3-versioning",
            Safety,
            Warning,
            "S3 bucket without versioning",
            "Every `aws_s3_bucket` has an `aws_s3_bucket_versioning` with `status = \"Enabled\"` (or \
the legacy inline `versioning { enabled = true }`), so that overwritten and deleted objects \
can be recovered.",
            "add an aws_s3_bucket_versioning with status = \"Enabled\"",
        ),
        &["CKV_AWS_21"],
    ),
    ckv(
        rule(
            "SAF004",
            "kms-rotation",
            Safety,
            Warning,
            "KMS key without automatic rotation",
            "Every `aws_kms_key` sets `enable_key_rotation = true`.",
            "set `enable_key_rotation = true`",
        ),
        &["CKV_AWS_7"],
    ),
    ckv(
        rule(
            "SAF005",
            "dynamodb-pitr",
            Safety,
            Warning,
            "DynamoDB table without point-in-time recovery",
            "Every `aws_dynamodb_table` has `point_in_time_recovery { enabled = true }` (in a \
stand-in's input: `point_in_time_recovery = true`).",
            "add `point_in_time_recovery { enabled = true }`",
        ),
        &["CKV_AWS_28", "CKV_AWS_165"],
    ),
    ckv(
        rule(
            "SAF006",
            "dynamodb-kms",
            Safety,
            Warning,
            "DynamoDB table not encrypted with a customer-managed KMS key",
            "Every `aws_dynamodb_table` has `server_side_encryption { enabled = true, kms_key_arn = \
… }` (in a stand-in's input: `kms_key_arn`).",
            "add `server_side_encryption { enabled = true kms_key_arn = aws_kms_key.x.arn }`",
        ),
        &["CKV_AWS_119"],
    ),
    rule(
        "SAF007",
        "dynamodb-deletion-protection",
        Safety,
        Warning,
        "DynamoDB table without deletion protection",
        "Every `aws_dynamodb_table` sets `deletion_protection_enabled = true`.",
        "set `deletion_protection_enabled = true`",
    ),
    ckv(
        rule(
            "SAF008",
            "rds-deletion-protection",
            Safety,
            Warning,
            "RDS database without deletion protection",
            "Every `aws_db_instance` and `aws_rds_cluster` sets `deletion_protection = true`.",
            "set `deletion_protection = true`",
        ),
        &["CKV_AWS_293", "CKV_AWS_139"],
    ),
    ckv(
        rule(
            "SAF009",
            "rds-not-public",
            Safety,
            Warning,
            "RDS database is publicly accessible",
            "No `aws_db_instance` or `aws_rds_cluster_instance` sets `publicly_accessible = true`.",
            "set `publicly_accessible = false` and reach the database through the VPC",
        ),
        &["CKV_AWS_17"],
    ),
    ckv(
        rule(
            "SAF010",
            "sg-open-admin-port",
            Safety,
            Warning,
            "security group opens an admin port to the internet",
            "No security group ingress (inline `ingress` blocks, `aws_security_group_rule` of type \
ingress, `aws_vpc_security_group_ingress_rule`) allows 0.0.0.0/0 or ::/0 on a port range that \
includes SSH (22), RDP (3389) or WinRM (5985-5986).",
            "restrict the CIDR to a bastion or VPN range, or use SSM Session Manager",
        ),
        &["CKV_AWS_24", "CKV_AWS_25"],
    ),
    ckv(
        rule(
            "SAF011",
            "iam-wildcard-admin",
            Safety,
            Warning,
            "IAM policy allows every action on every resource",
            "No IAM policy statement (`jsonencode({...})`, a JSON heredoc, or an \
`aws_iam_policy_document` statement) with effect Allow has action `*` (or `*:*`) together \
with resource `*`.",
            "name the actions and resources the role needs",
        ),
        &["CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63"],
    ),
    ckv(
        rule(
            "SAF012",
            "iam-service-wildcard",
            Safety,
            Warning,
            "IAM policy allows every action of a service on every resource",
            "No IAM policy statement with effect Allow grants a whole service (`s3:*`, `ec2:*`, \
`iam:*`…) on resource `*`: such a grant includes the service's destructive and \
permission-changing actions on everything in the account. Read in the same places as SAF011.",
            "list the actions the role needs and scope `Resource` to the ARNs it uses",
        ),
        &["CKV_AWS_289", "CKV_AWS_290", "CKV_AWS_355", "CKV_AWS_288"],
    ),
    ckv(
        rule(
            "SAF013",
            "iam-resource-wildcard",
            Safety,
            Warning,
            "IAM policy allows write actions on every resource",
            "An IAM policy statement with effect Allow and resource `*` names only the actions \
that cannot be scoped to a resource, or only read-only ones. A statement granting write \
actions (`s3:PutObject`, `ec2:TerminateInstances`…) on `*` is a warning (an error where \
protected); one granting only read-only actions (`Get*`, `List*`, `Describe*`…) is a note. \
Statements with a `Condition` are not reported.",
            "scope `Resource` to the ARNs the actions apply to",
        ),
        &["CKV_AWS_355", "CKV_AWS_290", "CKV_AWS_288"],
    ),
    ckv(
        rule(
            "SAF014",
            "iam-public-principal",
            Safety,
            Warning,
            "policy allows any principal",
            "No resource policy or trust policy statement with effect Allow names `Principal = \
\"*\"` (or `{ AWS = \"*\" }`, or an `aws_iam_policy_document` principal with identifier `*`) \
without a `Condition`: it grants the action to anyone on the internet, or lets any account \
assume the role.",
            "name the accounts, roles or services allowed, or add a Condition",
        ),
        &[
            "CKV_AWS_60",
            "CKV_AWS_70",
            "CKV_AWS_168",
            "CKV_AWS_33",
            "CKV_AWS_169",
            "CKV_AWS_167",
        ],
    ),
    ckv(
        rule(
            "SAF015",
            "rds-encrypted",
            Safety,
            Warning,
            "RDS storage is not encrypted",
            "Every `aws_db_instance` and `aws_rds_cluster` sets `storage_encrypted = true` (a \
read replica inherits its source's encryption; Aurora Serverless v1 is always encrypted).",
            "set `storage_encrypted = true` (and `kms_key_id` for a customer-managed key)",
        ),
        &["CKV_AWS_16", "CKV_AWS_96"],
    ),
    ckv(
        rule(
            "SAF016",
            "redshift-encrypted",
            Safety,
            Warning,
            "Redshift cluster is not encrypted",
            "Every `aws_redshift_cluster` sets `encrypted = true`.",
            "set `encrypted = true`",
        ),
        &["CKV_AWS_64"],
    ),
    ckv(
        rule(
            "SAF017",
            "ebs-encrypted",
            Safety,
            Warning,
            "EBS volume is not encrypted",
            "Every `aws_ebs_volume` sets `encrypted = true`, and every `root_block_device` and \
`ebs_block_device` of an `aws_instance` or `aws_launch_configuration` does too (an instance \
without a `root_block_device` gets an unencrypted root volume unless the account encrypts \
by default).",
            "set `encrypted = true` (or turn on EBS encryption by default for the account)",
        ),
        &["CKV_AWS_3", "CKV_AWS_8"],
    ),
    ckv(
        rule(
            "SAF018",
            "efs-encrypted",
            Safety,
            Warning,
            "EFS file system is not encrypted",
            "Every `aws_efs_file_system` sets `encrypted = true`.",
            "set `encrypted = true`",
        ),
        &["CKV_AWS_42"],
    ),
    ckv(
        rule(
            "SAF019",
            "rds-backups",
            Safety,
            Warning,
            "RDS automated backups are turned off",
            "No `aws_db_instance` or `aws_rds_cluster` sets `backup_retention_period = 0` (the \
default keeps one day).",
            "set `backup_retention_period` to 7 days or more",
        ),
        &["CKV_AWS_133"],
    ),
    ckv(
        rule(
            "SAF020",
            "azure-nsg-open-admin-port",
            Safety,
            Warning,
            "network security group opens an admin port to the internet",
            "No inbound Allow rule of an `azurerm_network_security_group` (inline `security_rule`) \
or `azurerm_network_security_rule` with source `*`, `Internet`, `Any` or `0.0.0.0/0` covers SSH \
(22) or RDP (3389).",
            "restrict the source to a bastion or VPN range, or use Azure Bastion",
        ),
        &["CKV_AZURE_9", "CKV_AZURE_10"],
    ),
    ckv(
        rule(
            "SAF021",
            "azure-storage-public",
            Safety,
            Warning,
            "Azure storage allows public access to blobs",
            "Every `azurerm_storage_account` sets `allow_nested_items_to_be_public = false` (the \
azurerm 3.x default is true; the older `allow_blob_public_access = true` is reported too), and \
no `azurerm_storage_container` has `container_access_type` `blob` or `container`.",
            "set `allow_nested_items_to_be_public = false` and keep containers `private`",
        ),
        &["CKV_AZURE_190", "CKV_AZURE_34"],
    ),
    ckv(
        rule(
            "SAF022",
            "azure-sql-tls",
            Safety,
            Warning,
            "Azure database server accepts connections without TLS 1.2",
            "Every `azurerm_mssql_server` sets `minimum_tls_version = \"1.2\"`; every \
`azurerm_mysql_server` and `azurerm_postgresql_server` keeps `ssl_enforcement_enabled = true` \
with `ssl_minimal_tls_version_enforced = \"TLS1_2\"`.",
            "set `minimum_tls_version = \"1.2\"` / `ssl_enforcement_enabled = true`",
        ),
        &[
            "CKV_AZURE_52",
            "CKV_AZURE_28",
            "CKV_AZURE_29",
            "CKV_AZURE_147",
        ],
    ),
    ckv(
        rule(
            "SAF023",
            "gcp-firewall-open-admin-port",
            Safety,
            Warning,
            "firewall rule opens an admin port to the internet",
            "No ingress `google_compute_firewall` with `source_ranges` containing `0.0.0.0/0` \
allows SSH (22) or RDP (3389) (an `allow` block without ports allows every port).",
            "restrict `source_ranges` to a bastion or IAP range (35.235.240.0/20)",
        ),
        &["CKV_GCP_2", "CKV_GCP_3"],
    ),
    ckv(
        rule(
            "SAF024",
            "gcs-bucket-public",
            Safety,
            Warning,
            "Cloud Storage bucket is readable by everyone",
            "No `google_storage_bucket_iam_member`, `_iam_binding`, `google_storage_bucket_access_control` \
or `google_storage_default_object_access_control` grants `allUsers` or \
`allAuthenticatedUsers`.",
            "grant the role to named principals; set `public_access_prevention = \"enforced\"`",
        ),
        &["CKV_GCP_28"],
    ),
    ckv(
        rule(
            "SAF025",
            "gcp-sql-public-ip",
            Safety,
            Warning,
            "Cloud SQL instance has a public IP",
            "Every `google_sql_database_instance` sets `settings { ip_configuration { \
ipv4_enabled = false } }` and reaches clients through a private network; an authorized network \
of `0.0.0.0/0` opens it to the world.",
            "set `ipv4_enabled = false` and `private_network`; remove 0.0.0.0/0 from authorized networks",
        ),
        &["CKV_GCP_60", "CKV_GCP_11"],
    ),
    locked(rule(
        "PLN001",
        "destructive-stateful-change",
        Plan,
        Error,
        "plan deletes or replaces a stateful resource",
        "Runs on the plan JSON of every instance during `plinth plan`. A plan whose \
`resource_changes[].change.actions` delete or replace a stateful resource (databases, \
buckets, tables, KMS keys, file systems, caches, streams…) is an error in a protected \
environment: apply is blocked (exit 3) until the plan is approved with \
`--approve-destructive`, which the run history records. Elsewhere it is a warning.",
        "check the plan; if the loss is intended, approve with --approve-destructive",
    )),
    rule(
        "CST001",
        "over-budget",
        Plan,
        Warning,
        "the environment's estimated monthly cost exceeds its budget",
        "`budget` in an environment block of plinth.hcl is USD per month. `plinth check --env \
ENV` estimates the environment's monthly cost from its code (the built-in price catalogue, \
`usage/ENV.toml` when present, literal counts only) and reports an estimate over the budget: \
an error in a protected environment, a warning elsewhere. Plans report it from their exact \
counts. Unpriced resources and unknown counts are left out of the estimate and named in a \
note; `plinth cost ENV` lists them.",
        "run `plinth cost ENV` to see what costs the most; cut it, or raise `budget`",
    ),
    locked(rule(
        "SUP001",
        "invalid-suppression",
        Suppression,
        Error,
        "invalid suppression comment",
        "A `# plinth:ignore RULE reason=\"…\" [expires=YYYY-MM-DD]` comment names known rule \
ids, gives a non-empty reason, a valid date if any, and does not target a rule that cannot \
be suppressed.",
        "write `# plinth:ignore RULE_ID reason=\"why\" expires=2027-01-31`",
    )),
    locked(rule(
        "SUP002",
        "expired-suppression",
        Suppression,
        Error,
        "suppression has expired",
        "A suppression with an `expires=` date stops applying after that date and is reported \
until it is removed or renewed with a new reason.",
        "fix the finding and remove the comment, or renew the date with a reason",
    )),
];
