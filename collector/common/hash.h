/*
 * hash.h: the 64-bit finalizer shared by the in-memory hash tables (the
 * RIB's route and attribute set tables, the filter index's tokens).
 */
#ifndef PW_HASH_H
#define PW_HASH_H

#include <stdint.h>

/* MurmurHash3's fmix64: every input bit reaches every output bit. */
static inline uint64_t pw_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

#endif
