resource "terraform_data" "bucket" {
  input = {
    resource_type = "aws_s3_bucket"
    bucket        = var.name
    arn           = "arn:aws:s3:::${var.name}"
    region        = var.region
    force_destroy = false
    tags          = var.tags
  }
}

resource "terraform_data" "public_access_block" {
  input = {
    resource_type           = "aws_s3_bucket_public_access_block"
    bucket                  = terraform_data.bucket.output.bucket
    block_public_acls       = true
    block_public_policy     = true
    ignore_public_acls      = true
    restrict_public_buckets = true
  }
}

resource "terraform_data" "encryption" {
  input = {
    resource_type      = "aws_s3_bucket_server_side_encryption_configuration"
    bucket             = terraform_data.bucket.output.bucket
    sse_algorithm      = "aws:kms"
    kms_master_key_id  = var.kms_key_arn
    bucket_key_enabled = true
  }
}

resource "terraform_data" "versioning" {
  input = {
    resource_type = "aws_s3_bucket_versioning"
    bucket        = terraform_data.bucket.output.bucket
    status        = "Enabled"
  }
}

resource "terraform_data" "lifecycle" {
  input = {
    resource_type = "aws_s3_bucket_lifecycle_configuration"
    bucket        = terraform_data.bucket.output.bucket
    rules = [
      {
        id          = "archive-then-expire"
        status      = "Enabled"
        transitions = [{ days = var.glacier_after_days, storage_class = "GLACIER_IR" }]
        expiration  = { days = var.retention_days }
      },
    ]
  }
}
