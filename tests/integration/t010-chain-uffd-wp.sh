#!/bin/bash
# Incremental pre-dumps tracked with userfaultfd async write-protection.
. "$(dirname "$0")/../lib.sh"
"$SDUMP" check | grep -q '^uffd-wp-async *found' || skip "no uffd-wp async tracking on this kernel"
TRACK=uffd-wp
. "$(dirname "$0")/chain.sh"
echo ok
