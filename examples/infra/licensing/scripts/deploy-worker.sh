#!/bin/sh
# after_apply hook of infra/licensing/terraform (seed 000's deploy step): writes the worker's
# wrangler configuration from the outputs Terraform just reported, where `wrangler deploy
# --env ENV` would read it. A stand-in for the deploy itself, which needs a Cloudflare account.
#
# plinth runs it in the stack directory with PLINTH_ENV and PLINTH_OUTPUT_<NAME> set.
set -eu
out="../worker/wrangler.${PLINTH_ENV}.toml"
mkdir -p ../worker
{
  echo "# Written by infra/licensing/scripts/deploy-worker.sh after \`plinth apply ${PLINTH_ENV}\`."
  echo "name = \"${PLINTH_OUTPUT_WORKER_NAME}\""
  echo "main = \"src/index.ts\""
  echo "routes = [{ pattern = \"${PLINTH_OUTPUT_LICENSING_URL#https://}/*\" }]"
  echo
  echo "[vars]"
  echo "LICENSING_URL    = \"${PLINTH_OUTPUT_LICENSING_URL}\""
  echo "SECRETS_STORE_ID = \"${PLINTH_OUTPUT_SECRETS_STORE_ID}\""
  # kv_namespace_ids is a map output: {"activations":"…","licenses":"…"}.
  echo "${PLINTH_OUTPUT_KV_NAMESPACE_IDS}" | tr -d '{}" ' | tr ',' '\n' | while IFS=: read -r name id; do
    [ -n "$name" ] || continue
    echo
    echo "[[kv_namespaces]]"
    echo "binding = \"$(echo "$name" | tr '[:lower:]-' '[:upper:]_')\""
    echo "id      = \"$id\""
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote infra/licensing/worker/wrangler.${PLINTH_ENV}.toml for ${PLINTH_OUTPUT_WORKER_NAME}"
