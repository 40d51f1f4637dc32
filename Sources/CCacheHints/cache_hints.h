// Compiler cache hints Swift has no spelling for. Header only: Swift inlines these like its own code.
#pragma once

/// Asks the CPU to start loading the cache line holding `address` into L2 (x86: prefetcht1), for a read soon
/// but not next: L1 keeps what the running loop uses. Never faults.
static inline void bottleneck_prefetch_to_l2(const void *address) { __builtin_prefetch(address, 0, 2); }
