/*
 * Unit tests of collector/route_filter.c: the RIB browser's AS path and
 * community patterns, parsed as a user types them and matched against
 * paths and canonical attribute sets.
 */
#include "check_harness.h"
#include "route_filter.h"

static bool path_matches(const char *pat, const uint32_t *path, int n)
{
	struct rf_as_path p;
	const char *why = NULL;
	if (!CHECK(rf_as_path_parse(pat, &p, &why) == 0))
		return false;
	return rf_as_path_match(&p, path, n);
}

static void as_paths(void)
{
	const uint32_t path[] = { 65020, 12076, 8075, 65515 };
	CHECK(path_matches("12076", path, 4));
	CHECK(path_matches("12076 8075", path, 4));
	CHECK(path_matches("_12076_8075_", path, 4));
	CHECK(path_matches("12076,8075", path, 4));
	CHECK(!path_matches("8075 12076", path, 4));        /* order matters */
	CHECK(!path_matches("12076 65515", path, 4));       /* consecutive only */
	CHECK(path_matches("^65020", path, 4));
	CHECK(!path_matches("^12076", path, 4));
	CHECK(path_matches("65515$", path, 4));
	CHECK(!path_matches("8075$", path, 4));
	CHECK(path_matches("^65020 12076 8075 65515$", path, 4));
	CHECK(!path_matches("^65020 12076$", path, 4));
	CHECK(path_matches("4294967295", (const uint32_t[]){ 4294967295u }, 1));
	CHECK(!path_matches("1", NULL, 0));                 /* an empty path matches nothing */

	struct rf_as_path p;
	const char *why = NULL;
	const char *bad[] = { "", "^", "$", "^$", "abc", "12076 x", "4294967296", "$12076", "12076^", "-1", "1.5" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (!CHECK(rf_as_path_parse(bad[i], &p, &why) != 0))
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
		CHECK(why != NULL);
	}
	char many[400] = "";
	for (int i = 0; i < 33; i++)
		strcat(many, "1 ");
	CHECK(rf_as_path_parse(many, &p, &why) != 0 && strstr(why, "32"));
}

/* A canonical attribute set with COMMUNITIES 12076:5010 65535:65281 and
 * LARGE_COMMUNITIES 65020:7:9 (flags, type, 2-byte length, value). */
static const uint8_t attrs[] = {
	0xC0, 8, 0, 8, 0x2F, 0x2C, 0x13, 0x92, 0xFF, 0xFF, 0xFF, 0x01,
	0xC0, 32, 0, 12, 0, 0, 0xFD, 0xFC, 0, 0, 0, 7, 0, 0, 0, 9,
};

static bool comm_matches(const char *pat, const uint8_t *a, size_t len)
{
	struct rf_community c;
	const char *why = NULL;
	if (!CHECK(rf_community_parse(pat, &c, &why) == 0))
		return false;
	return rf_community_match(&c, a, len);
}

static void communities(void)
{
	CHECK(comm_matches("12076:5010", attrs, sizeof attrs));
	CHECK(comm_matches("12076:*", attrs, sizeof attrs));
	CHECK(comm_matches("*:5010", attrs, sizeof attrs));
	CHECK(comm_matches("*:*", attrs, sizeof attrs));
	CHECK(comm_matches("no-export", attrs, sizeof attrs));
	CHECK(!comm_matches("no-advertise", attrs, sizeof attrs));
	CHECK(!comm_matches("12076:5011", attrs, sizeof attrs));
	CHECK(comm_matches("65020:7:9", attrs, sizeof attrs));
	CHECK(comm_matches("65020:*:9", attrs, sizeof attrs));
	CHECK(!comm_matches("65020:7:8", attrs, sizeof attrs));
	CHECK(!comm_matches("12076:5010", attrs + 12, sizeof attrs - 12)); /* no COMMUNITIES */
	CHECK(!comm_matches("65020:7:9", attrs, 12));                      /* no LARGE_COMMUNITIES */

	struct rf_community c;
	const char *why;
	const char *bad[] = { "", "1", "65536:1", "1:65536", "1:2:3:4", "a:b", "1:", ":1", "1::2", "*x:1", "4294967296:1:1",
			      "NO-EXPORT" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (!CHECK(rf_community_parse(bad[i], &c, &why) != 0))
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
		CHECK(why != NULL);
	}
}

int main(void)
{
	as_paths();
	communities();
	return check_report("test-route-filter");
}
