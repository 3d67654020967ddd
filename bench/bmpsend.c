/* bmpsend: the benchmark's router side. Streams a BMP capture to a
 * collector over one TCP connection, as fast as the collector reads it, and
 * optionally from a byte offset on at a fixed rate of messages per second
 * (the churn phase of a bmpgen stream).
 *
 *   bmpsend --connect 127.0.0.1:PORT --file FILE
 *           [--rate-from OFFSET --rate MSGS_PER_S] [--pause-at OFFSET] [--hold]
 *
 * --pause-at: after the bytes before OFFSET are written, print a "paused"
 *             line and wait for a line on stdin before going on.
 * --hold:     after the last byte, keep the connection open until stdin
 *             closes (the collector must not see the feed go away while it
 *             is measured).
 *
 * It prints JSON lines on stdout, times in seconds of CLOCK_MONOTONIC (the
 * clock of Python's time.monotonic()): "connected", "paused", progress
 * once a second during the rate-limited part, and "done" with the totals.
 * Only 127.0.0.0/8 addresses are accepted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now();
	if (d <= 0)
		return;
	struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };
	nanosleep(&ts, NULL);
}

static int fd = -1;

static void send_all(const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n > (1 << 20) ? (1 << 20) : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("bmpsend: write");
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void wait_stdin_line(void)
{
	char c;
	for (;;) {
		ssize_t r = read(0, &c, 1);
		if (r <= 0 || c == '\n')
			return;
	}
}

static size_t msg_len(const uint8_t *p, size_t left)
{
	if (left < 6)
		return left;
	size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
	return n < 6 || n > left ? left : n;
}

int main(int argc, char **argv)
{
	const char *target = NULL, *path = NULL;
	long long rate_from = -1, pause_at = -1;
	double rate = 0;
	int hold = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--hold")) {
			hold = 1;
			continue;
		}
		if (i + 1 >= argc)
			goto usage;
		const char *v = argv[++i];
		if (!strcmp(a, "--connect"))
			target = v;
		else if (!strcmp(a, "--file"))
			path = v;
		else if (!strcmp(a, "--rate-from"))
			rate_from = atoll(v);
		else if (!strcmp(a, "--rate"))
			rate = atof(v);
		else if (!strcmp(a, "--pause-at"))
			pause_at = atoll(v);
		else
			goto usage;
	}
	if (!target || !path || (rate_from >= 0 && rate <= 0))
		goto usage;

	char host[64];
	const char *colon = strrchr(target, ':');
	if (!colon || (size_t)(colon - target) >= sizeof host)
		goto usage;
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "bmpsend: only 127.0.0.0/8 targets\n");
		return 2;
	}

	int ffd = open(path, O_RDONLY);
	struct stat st;
	if (ffd < 0 || fstat(ffd, &st)) {
		perror(path);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	const uint8_t *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, ffd, 0) : NULL;
	if (size && data == MAP_FAILED) {
		perror("bmpsend: mmap");
		return 1;
	}
	if (size)
		madvise((void *)data, size, MADV_SEQUENTIAL);

	/* the collector may still be starting: retry for 10 s */
	double give_up = now() + 10;
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			break;
		close(fd);
		if (now() > give_up) {
			perror("bmpsend: connect");
			return 1;
		}
		usleep(20000);
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

	double t_connect = now();
	printf("{\"event\": \"connected\", \"t\": %.6f}\n", t_connect);
	fflush(stdout);

	size_t off = 0;
	size_t fast_end = size;
	if (pause_at >= 0 && (size_t)pause_at < fast_end)
		fast_end = (size_t)pause_at;
	if (rate_from >= 0 && (size_t)rate_from < fast_end)
		fast_end = (size_t)rate_from;
	double t_first = now();
	send_all(data, fast_end);
	off = fast_end;
	double t_fast_done = now();
	if (pause_at >= 0 && off == (size_t)pause_at && off < size) {
		printf("{\"event\": \"paused\", \"t\": %.6f, \"offset\": %zu}\n", now(), off);
		fflush(stdout);
		wait_stdin_line();
	}

	/* the rate-limited part: every ms, write what the schedule says */
	double t_rate0 = now(), max_lag = 0;
	unsigned long long rate_msgs = 0;
	if (off < size && rate_from >= 0) {
		double next_report = t_rate0 + 1;
		unsigned long long last_report_msgs = 0;
		while (off < size) {
			double t = now();
			double due = (t - t_rate0) * rate;
			if ((double)rate_msgs + 1 > due) {
				/* wake every ms at most: ~rate/1000 messages per write */
				double next = t_rate0 + ((double)rate_msgs + 1) / rate;
				sleep_until(next > t + 0.001 ? next : t + 0.001);
				continue;
			}
			double lag = due - (double)rate_msgs;
			if (lag > max_lag)
				max_lag = lag;
			/* everything due now, at most 50 ms worth in one write */
			unsigned long long want = (unsigned long long)due - rate_msgs + 1;
			unsigned long long cap = (unsigned long long)(rate / 20) + 1;
			if (want > cap)
				want = cap;
			size_t start = off;
			while (want-- && off < size) {
				off += msg_len(data + off, size - off);
				rate_msgs++;
			}
			send_all(data + start, off - start);
			if (t >= next_report) {
				printf("{\"event\": \"progress\", \"t\": %.6f, \"messages\": %llu, \"rate\": %.0f, \"lag_messages\": %.0f}\n",
				       t, rate_msgs, (double)(rate_msgs - last_report_msgs), lag);
				fflush(stdout);
				last_report_msgs = rate_msgs;
				next_report += 1;
			}
		}
	} else if (off < size) {
		send_all(data + off, size - off);
		off = size;
	}
	double t_last = now();
	double rate_secs = t_last - t_rate0;
	printf("{\"event\": \"done\", \"t_connect\": %.6f, \"t_first\": %.6f, \"t_fast_done\": %.6f, \"t_rate_start\": %.6f,"
	       " \"t_last\": %.6f, \"bytes\": %zu, \"rate_messages\": %llu, \"rate_seconds\": %.3f,"
	       " \"rate_achieved\": %.0f, \"max_lag_messages\": %.0f}\n",
	       t_connect, t_first, t_fast_done, t_rate0, t_last, off, rate_msgs, rate_secs,
	       rate_msgs && rate_secs > 0 ? (double)rate_msgs / rate_secs : 0.0, max_lag);
	fflush(stdout);
	if (hold)
		while (getchar() != EOF)
			;
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: bmpsend --connect 127.0.0.1:PORT --file FILE [--rate-from OFFSET --rate MSGS_PER_S]\n"
			"               [--pause-at OFFSET] [--hold]\n");
	return 2;
}
