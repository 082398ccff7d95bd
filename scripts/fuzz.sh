#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS (default 30) from its seed corpus; a crash,
# leak or sanitizer report fails the run and leaves the reproducer in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
mkdir -p build/fuzz/corpus-config build/fuzz/corpus-argv build/fuzz/corpus-s3_xml build/fuzz/corpus-rules
cp etc/platctl/compliance.d/*.yaml build/fuzz/corpus-rules/
cp tests/data/config/* etc/platctl.yaml build/fuzz/corpus-config/ 2>/dev/null || true
printf 'config\0show\0-o\0json' >build/fuzz/corpus-argv/show
printf 'help\0config\0validate' >build/fuzz/corpus-argv/help
printf '__complete\0config\0show\0--o' >build/fuzz/corpus-argv/complete
printf -- '-vv\0--no-color\0version\0--short' >build/fuzz/corpus-argv/version
printf '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>' >build/fuzz/corpus-s3_xml/error
printf '<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken><Contents><Key>a/b</Key><Size>3</Size><ETag>"e"</ETag></Contents></ListBucketResult>' >build/fuzz/corpus-s3_xml/list
printf '<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>' >build/fuzz/corpus-s3_xml/upload
status=0
for target in config argv s3_xml rules; do
	echo "fuzz: $target for ${seconds}s"
	(cd build/fuzz && ./fuzz_$target -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
		corpus-$target 2>&1 | grep -E '^(#|==|SUMMARY|stat::number_of_executed_units|artifact)' | tail -n 8) || status=1
	ls build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* 2>/dev/null && status=1
done
exit $status
