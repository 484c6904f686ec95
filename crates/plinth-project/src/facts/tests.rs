use std::path::Path;

use serde_json::json;

use super::*;
use crate::StackCode;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn by_address<'a>(facts: &'a CodeFacts, address: &str) -> &'a ResourceFact {
    facts
        .resources
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| {
            let all: Vec<&str> = facts.resources.iter().map(|r| r.address.as_str()).collect();
            panic!("no {address} in {all:?}")
        })
}

#[test]
fn counts_attributes_and_stand_ins() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "main.tf",
        r#"
locals {
  azs    = ["a", "b", "c"]
  tables = { one = {}, two = {} }
  mode   = "PROVISIONED"
}

variable "n" {
  type = number
}

resource "aws_nat_gateway" "fixed" {
  count = 2
}

resource "aws_subnet" "per_az" {
  count = length(local.azs)
}

resource "aws_nat_gateway" "per_env" {
  count = min(var.n, length(local.azs))
}

resource "aws_dynamodb_table" "t" {
  for_each       = local.tables
  billing_mode   = local.mode
  read_capacity  = 5
  write_capacity = var.n
  name           = "t-${each.key}"

  point_in_time_recovery {
    enabled = true
  }
}

resource "terraform_data" "db" {
  input = {
    resource_type  = "aws_db_instance"
    instance_class = "db.t3.micro"
    multi_az       = var.n > 1
  }
}
"#,
    );
    let facts = StackCode::read(d, &[]).facts;
    assert_eq!(facts.resources.len(), 5);
    assert_eq!(
        by_address(&facts, "aws_nat_gateway.fixed").count,
        InstanceCount::Known(2)
    );
    assert_eq!(
        by_address(&facts, "aws_subnet.per_az").count,
        InstanceCount::Known(3)
    );
    assert_eq!(
        by_address(&facts, "aws_nat_gateway.per_env").count,
        InstanceCount::Unknown("count = min(var.n, length(local.azs))".into())
    );
    let table = by_address(&facts, "aws_dynamodb_table.t");
    assert_eq!(table.count, InstanceCount::Known(2));
    assert_eq!(table.attributes["billing_mode"], "PROVISIONED");
    assert_eq!(table.attributes["read_capacity"], 5);
    assert_eq!(
        table.attributes["point_in_time_recovery"],
        json!([{ "enabled": true }])
    );
    assert!(
        !table.attributes.contains_key("for_each"),
        "meta-arguments are not settings"
    );
    assert_eq!(table.unknown, ["write_capacity", "name"]);
    assert_eq!(table.line, 24);
    let db = by_address(&facts, "terraform_data.db");
    assert_eq!(db.kind, "terraform_data");
    assert_eq!(db.attributes["input"]["resource_type"], "aws_db_instance");
    assert_eq!(db.attributes["input"]["instance_class"], "db.t3.micro");
    assert_eq!(db.unknown, ["input.multi_az"]);
}

#[test]
fn local_modules_multiply_and_take_literal_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("stack");
    let module = tmp.path().join("modules/table");
    write(
        &root,
        "main.tf",
        r#"
locals {
  tables = {
    a = { mode = "PAY_PER_REQUEST" }
    b = { mode = "PAY_PER_REQUEST" }
    c = { mode = var.mode }
  }
}

module "table" {
  source   = "../modules/table"
  for_each = local.tables
  mode     = "PAY_PER_REQUEST"
  alarms   = [var.topic]
}

module "twice" {
  source = "../modules/table"
  count  = var.enabled ? 2 : 0
}

module "none" {
  source = "../modules/table"
  count  = 0
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
}
"#,
    );
    write(
        &module,
        "main.tf",
        r#"
variable "mode" {
  default = "PROVISIONED"
}

variable "alarms" {
  default = []
}

resource "aws_dynamodb_table" "this" {
  billing_mode = var.mode
}

resource "aws_cloudwatch_metric_alarm" "a" {
  count = length(var.alarms)
}
"#,
    );
    let facts = StackCode::read(&root, std::slice::from_ref(&module)).facts;
    let t = by_address(&facts, "module.table.aws_dynamodb_table.this");
    assert_eq!(t.count, InstanceCount::Known(3));
    assert_eq!(t.attributes["billing_mode"], "PAY_PER_REQUEST");
    assert_eq!(
        by_address(&facts, "module.table.aws_cloudwatch_metric_alarm.a").count,
        InstanceCount::Known(3),
        "length([var.topic]) is 1 although the topic is unknown"
    );
    let twice = by_address(&facts, "module.twice.aws_dynamodb_table.this");
    assert_eq!(
        twice.count,
        InstanceCount::Unknown("count = var.enabled ? 2 : 0".into())
    );
    assert_eq!(
        twice.attributes["billing_mode"], "PROVISIONED",
        "an argument not passed takes the variable's default"
    );
    assert_eq!(
        by_address(&facts, "module.twice.aws_cloudwatch_metric_alarm.a").count,
        InstanceCount::Known(0),
        "zero alarms per call, whatever the number of calls"
    );
    assert_eq!(
        by_address(&facts, "module.none.aws_dynamodb_table.this").count,
        InstanceCount::Known(0)
    );
    assert_eq!(facts.modules.len(), 1);
    assert_eq!(facts.modules[0].address, "module.vpc");
    assert_eq!(facts.modules[0].source, "terraform-aws-modules/vpc/aws");
}

#[test]
fn unparsed_files_are_noted() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "bad.tf", "resource \"x\" {\n");
    write(tmp.path(), "good.tf", "resource \"aws_kms_key\" \"k\" {}\n");
    let facts = StackCode::read(tmp.path(), &[]).facts;
    assert_eq!(facts.unparsed, [tmp.path().join("bad.tf")]);
    assert_eq!(facts.resources.len(), 1);
    assert!(facts.resources[0].attributes.is_empty());
}
