//! The price catalogue: list prices as data (`prices/catalogue.toml`, embedded in the binary),
//! which a team replaces or extends with a file of the same format.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use plinth_diag::{Diagnostic, SourceFile};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The catalogue shipped with plinth.
pub const BUILTIN: &str = include_str!("../prices/catalogue.toml");

/// Where a catalogue's prices come from, shown in every report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatalogueSource {
    /// `plinth built-in prices`, or the name a team's file gives itself.
    pub name: String,
    /// When the prices were read (YYYY-MM-DD).
    pub date: String,
    /// The file, for a team's catalogue (`None` for the built-in one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// How a component's price is found.
#[derive(Debug, Clone)]
pub enum Prices {
    /// By region (`"*"`: any region).
    Regional(BTreeMap<String, f64>),
    /// By the space-joined values of the `by` attributes, then by region.
    Keyed(BTreeMap<String, BTreeMap<String, f64>>),
}

/// One cost component of one resource type (a `[[price]]` entry).
#[derive(Debug, Clone)]
pub struct Component {
    /// Resource type.
    pub kind: String,
    /// What is charged (`write requests (on-demand)`).
    pub name: String,
    /// The unit the price is per (`1M write request units`).
    pub unit: String,
    /// Applies only when each attribute has one of these values (as text).
    pub when: Vec<(String, Vec<String>)>,
    /// Multiplied by the hours in a month.
    pub hourly: bool,
    /// A fixed multiplier (default 1).
    pub quantity: f64,
    /// Attributes multiplied in (a list counts its elements, a bool is 0 or 1).
    pub multiply: Vec<String>,
    /// Usage quantities multiplied in (from the usage file, else the catalogue's default).
    pub usage: Vec<String>,
    /// Divisor that turns the product into the price's unit (1,000,000 for "per 1M").
    pub per: f64,
    /// Multipliers by attribute value (`multi_az = { true = 2 }`).
    pub factor: Vec<(String, BTreeMap<String, f64>)>,
    /// Attributes whose values select the price.
    pub by: Vec<String>,
    /// The prices.
    pub prices: Prices,
    /// Where the price was read.
    pub source: String,
    /// When it was read (YYYY-MM-DD).
    pub read: String,
}

impl Component {
    /// Whether the price depends on a usage quantity.
    pub fn is_usage(&self) -> bool {
        !self.usage.is_empty()
    }
}

/// Prices, free types, provider defaults and assumed usage.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Every file that contributed, in order (the built-in one first unless replaced).
    pub sources: Vec<CatalogueSource>,
    /// Currency of every price (`USD`).
    pub currency: String,
    /// Hours in a month (730, as the providers count).
    pub hours_per_month: f64,
    free_patterns: Vec<String>,
    free: GlobSet,
    defaults: HashMap<String, serde_json::Map<String, Value>>,
    usage_defaults: HashMap<String, BTreeMap<String, f64>>,
    components: Vec<Component>,
    by_type: HashMap<String, Vec<usize>>,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Catalogue {
        Catalogue::parse("plinth built-in catalogue", BUILTIN, None)
            .expect("the built-in catalogue is valid (tested)")
    }

    /// Parses one catalogue file on its own. `file` is the path shown in reports; errors point
    /// at `display:line:col`.
    pub fn parse(display: &str, text: &str, file: Option<&str>) -> Result<Catalogue, Diagnostic> {
        let source = SourceFile::new(display, text);
        let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(&source, &e))?;
        build(raw, &source, file)
    }

    /// This catalogue with a team's file applied: entries with the same type and name replace
    /// ours, new ones are added, `free`, `defaults` and `usage` are merged key by key; a file
    /// whose `[catalogue]` says `replace = true` stands alone.
    pub fn with_file(self, display: &str, text: &str) -> Result<Catalogue, Diagnostic> {
        let source = SourceFile::new(display, text);
        let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(&source, &e))?;
        let replace = raw.catalogue.replace;
        let other = build(raw, &source, Some(display))?;
        if replace {
            return Ok(other);
        }
        if other.currency != self.currency {
            return Err(Diagnostic::error(format!(
                "{display} prices in {}, the catalogue it extends in {}",
                other.currency, self.currency
            )));
        }
        let mut merged = self;
        merged.sources.extend(other.sources);
        merged.hours_per_month = other.hours_per_month;
        merged.free_patterns.extend(other.free_patterns);
        for (kind, values) in other.defaults {
            merged.defaults.entry(kind).or_default().extend(values);
        }
        for (kind, values) in other.usage_defaults {
            merged
                .usage_defaults
                .entry(kind)
                .or_default()
                .extend(values);
        }
        for c in other.components {
            match merged
                .components
                .iter_mut()
                .find(|m| m.kind == c.kind && m.name == c.name)
            {
                Some(existing) => *existing = c,
                None => merged.components.push(c),
            }
        }
        merged.index().map_err(Diagnostic::error)?;
        Ok(merged)
    }

    /// The oldest date among the sources: what `plinth cost` shows as the prices' age.
    pub fn date(&self) -> &str {
        self.sources
            .iter()
            .map(|s| s.date.as_str())
            .min()
            .unwrap_or("")
    }

    /// Whether `kind` costs nothing by itself.
    pub fn is_free(&self, kind: &str) -> bool {
        self.free.is_match(kind)
    }

    /// The components of `kind`, in file order.
    pub fn components(&self, kind: &str) -> impl Iterator<Item = &Component> + '_ {
        self.by_type
            .get(kind)
            .into_iter()
            .flatten()
            .map(|&i| &self.components[i])
    }

    /// The value the provider gives attribute `path` of `kind` when the code omits it.
    pub fn default_of(&self, kind: &str, path: &str) -> Option<&Value> {
        self.defaults.get(kind).and_then(|d| d.get(path))
    }

    /// The assumed monthly quantity of usage `key` for `kind`.
    pub fn assumed_usage(&self, kind: &str, key: &str) -> Option<f64> {
        self.usage_defaults
            .get(kind)
            .and_then(|u| u.get(key))
            .copied()
    }

    /// Every usage key any component of `kind` reads (for checking usage files).
    pub fn usage_keys(&self, kind: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .components(kind)
            .flat_map(|c| c.usage.iter().map(String::as_str))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Whether any component of any type reads usage `key`.
    pub fn knows_usage_key(&self, key: &str) -> bool {
        self.components
            .iter()
            .any(|c| c.usage.iter().any(|u| u == key))
    }

    fn index(&mut self) -> Result<(), String> {
        let mut builder = GlobSetBuilder::new();
        for p in &self.free_patterns {
            builder.add(Glob::new(p).map_err(|e| format!("free type pattern `{p}`: {e}"))?);
        }
        self.free = builder
            .build()
            .map_err(|e| format!("free type patterns: {e}"))?;
        self.by_type.clear();
        for (i, c) in self.components.iter().enumerate() {
            self.by_type.entry(c.kind.clone()).or_default().push(i);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    catalogue: RawHeader,
    #[serde(default)]
    defaults: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    usage: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    price: Vec<toml::Spanned<RawPrice>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    date: String,
    #[serde(default = "usd")]
    currency: String,
    #[serde(default = "hours")]
    hours_per_month: f64,
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    free: Vec<String>,
}

fn usd() -> String {
    "USD".into()
}

fn hours() -> f64 {
    730.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    unit: String,
    #[serde(default)]
    when: BTreeMap<String, Vec<toml::Value>>,
    #[serde(default)]
    hourly: bool,
    quantity: Option<f64>,
    #[serde(default)]
    multiply: Vec<String>,
    #[serde(default)]
    usage: Vec<String>,
    per: Option<f64>,
    #[serde(default)]
    factor: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    by: Vec<String>,
    price: Option<BTreeMap<String, f64>>,
    prices: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    source: String,
    read: String,
}

fn toml_error(source: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
    let d = Diagnostic::error(format!(
        "invalid price catalogue {}: {}",
        source.display_path(),
        e.message()
    ));
    match e.span() {
        Some(span) => d.at(source, span, "here"),
        None => d,
    }
}

fn build(
    raw: RawFile,
    source: &Arc<SourceFile>,
    file: Option<&str>,
) -> Result<Catalogue, Diagnostic> {
    let whole = 0..source.text().len().min(1);
    let fail = |span: Range<usize>, msg: String| {
        Diagnostic::error(format!("invalid price catalogue: {msg}")).at(source, span, "here")
    };
    if !is_date(&raw.catalogue.date) {
        return Err(fail(
            whole,
            format!(
                "[catalogue] date `{}` is not YYYY-MM-DD",
                raw.catalogue.date
            ),
        ));
    }
    if raw.catalogue.hours_per_month <= 0.0 {
        return Err(fail(whole, "hours_per_month must be positive".into()));
    }
    let mut components = Vec::with_capacity(raw.price.len());
    for spanned in raw.price {
        let span = spanned.span();
        let p = spanned.into_inner();
        let what = format!("price `{}` of {}", p.name, p.kind);
        let prices = match (p.price, p.prices, p.by.is_empty()) {
            (Some(regional), None, true) => Prices::Regional(regional),
            (None, Some(keyed), false) => Prices::Keyed(keyed),
            (_, _, true) => {
                return Err(fail(
                    span,
                    format!("{what} needs `price = {{ REGION = … }}`"),
                ));
            }
            (_, _, false) => {
                return Err(fail(
                    span,
                    format!("{what} has `by`, so its prices go in a `[price.prices]` table"),
                ));
            }
        };
        let per = p.per.unwrap_or(1.0);
        if per <= 0.0 {
            return Err(fail(span, format!("{what}: `per` must be positive")));
        }
        if !p.source.starts_with("https://") && !p.source.starts_with("http://") {
            return Err(fail(
                span,
                format!("{what}: `source` must be the URL the price was read from"),
            ));
        }
        if !is_date(&p.read) {
            return Err(fail(
                span,
                format!("{what}: `read` `{}` is not YYYY-MM-DD", p.read),
            ));
        }
        let mut when = Vec::new();
        for (attr, values) in p.when {
            let texts: Option<Vec<String>> = values.iter().map(toml_text).collect();
            let Some(texts) = texts else {
                return Err(fail(
                    span,
                    format!("{what}: `when.{attr}` lists strings, numbers or booleans"),
                ));
            };
            when.push((attr, texts));
        }
        components.push(Component {
            kind: p.kind,
            name: p.name,
            unit: p.unit,
            when,
            hourly: p.hourly,
            quantity: p.quantity.unwrap_or(1.0),
            multiply: p.multiply,
            usage: p.usage,
            per,
            factor: p.factor.into_iter().collect(),
            by: p.by,
            prices,
            source: p.source,
            read: p.read,
        });
    }
    let defaults = raw
        .defaults
        .into_iter()
        .map(|(kind, values)| {
            let map = values
                .into_iter()
                .map(|(k, v)| (k, toml_json(v)))
                .collect::<serde_json::Map<_, _>>();
            (kind, map)
        })
        .collect();
    let mut catalogue = Catalogue {
        sources: vec![CatalogueSource {
            name: raw.catalogue.name,
            date: raw.catalogue.date,
            file: file.map(str::to_owned),
        }],
        currency: raw.catalogue.currency,
        hours_per_month: raw.catalogue.hours_per_month,
        free_patterns: raw.catalogue.free,
        free: GlobSet::empty(),
        defaults,
        usage_defaults: raw.usage.into_iter().collect(),
        components,
        by_type: HashMap::new(),
    };
    catalogue.index().map_err(|m| fail(whole, m))?;
    Ok(catalogue)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn toml_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn toml_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_json(v))).collect())
        }
        toml::Value::Datetime(d) => Value::String(d.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid_and_dated() {
        let c = Catalogue::builtin();
        assert_eq!(c.currency, "USD");
        assert!(is_date(c.date()));
        assert!(c.is_free("aws_iam_role") && c.is_free("aws_s3_bucket_versioning"));
        assert!(!c.is_free("aws_s3_bucket"));
        for kind in [
            "aws_dynamodb_table",
            "aws_kms_key",
            "aws_secretsmanager_secret",
            "aws_cloudwatch_metric_alarm",
            "aws_cloudwatch_dashboard",
            "aws_cloudwatch_log_group",
            "aws_sns_topic",
            "aws_sqs_queue",
            "aws_lambda_function",
            "aws_s3_bucket",
            "aws_db_instance",
            "aws_rds_cluster_instance",
            "aws_elasticache_cluster",
            "aws_nat_gateway",
            "aws_lb",
            "aws_eks_cluster",
            "aws_ecr_repository",
            "aws_route53_zone",
            "cloudflare_workers_script",
            "cloudflare_workers_kv_namespace",
        ] {
            assert!(c.components(kind).next().is_some(), "{kind} is priced");
        }
        for comp in c.components.iter() {
            // Every usage-based component has an assumption to fall back on.
            for key in &comp.usage {
                assert!(
                    c.assumed_usage(&comp.kind, key).is_some(),
                    "{} `{}` has no [usage.{}] {key}",
                    comp.kind,
                    comp.name,
                    comp.kind
                );
            }
            // Both regions the catalogue promises, unless the price is global.
            let regions: Vec<&BTreeMap<String, f64>> = match &comp.prices {
                Prices::Regional(r) => vec![r],
                Prices::Keyed(k) => k.values().collect(),
            };
            for r in regions {
                assert!(
                    r.contains_key("*")
                        || (r.contains_key("us-east-1") && r.contains_key("eu-west-1")),
                    "{} `{}`",
                    comp.kind,
                    comp.name
                );
            }
        }
    }

    #[test]
    fn a_team_file_extends_or_replaces() {
        let team = r#"
[catalogue]
name = "acme negotiated"
date = "2026-11-30"
free = ["acme_*"]

[[price]]
type = "aws_kms_key"
name = "customer managed key"
unit = "key-month"
price = { "*" = 0.8 }
source = "https://acme.example/prices"
read = "2026-11-30"

[[price]]
type = "acme_widget"
name = "widget"
unit = "month"
price = { "*" = 2 }
source = "https://acme.example/prices"
read = "2026-11-30"
"#;
        let c = Catalogue::builtin().with_file("prices.toml", team).unwrap();
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.date(), "2025-06-01", "the oldest prices set the date");
        let key = c.components("aws_kms_key").next().unwrap();
        assert!(matches!(&key.prices, Prices::Regional(r) if r["*"] == 0.8));
        assert_eq!(c.components("aws_kms_key").count(), 2, "requests stay");
        assert!(c.components("acme_widget").next().is_some());
        assert!(c.is_free("acme_thing") && c.is_free("aws_iam_role"));

        let alone = Catalogue::builtin()
            .with_file(
                "prices.toml",
                &team.replace("free = [", "replace = true\nfree = ["),
            )
            .unwrap();
        assert_eq!(alone.sources.len(), 1);
        assert!(alone.components("aws_dynamodb_table").next().is_none());
    }

    #[test]
    fn errors_point_at_the_file() {
        let bad = "[catalogue]\nname = \"x\"\ndate = \"2026-11-30\"\n\n[[price]]\ntype = \"a\"\nname = \"b\"\nunit = \"u\"\nprice = { \"*\" = 1 }\nsource = \"https://x.example\"\nread = \"2026-11-30\"\ncolour = \"red\"\n";
        let d = Catalogue::parse("team.toml", bad, None).unwrap_err();
        assert!(d.message.contains("colour"), "{}", d.message);
        assert_eq!(
            d.location().map(|(f, l, _)| (f.to_owned(), l)),
            Some(("team.toml".into(), 12))
        );
        let no_source = bad
            .replace("https://x.example", "the website")
            .replace("colour = \"red\"\n", "");
        let d = Catalogue::parse("team.toml", &no_source, None).unwrap_err();
        assert!(d.message.contains("`source`"), "{}", d.message);
        assert_eq!(d.location().map(|(_, l, _)| l), Some(5));
    }
}
