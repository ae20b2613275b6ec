/*
 * The whole user space of the Linux side of `make bench-linux`: a static
 * /init that times CPU hotplug the way a user would, by writing to
 * /sys/devices/system/cpu/cpuN/online, then reports the boot-time AP
 * bring-up from the kernel log and powers off.
 *
 * Output lines (parsed by boot/src/bench/report.rs, for bench-linux):
 *   linux-bench: cpus N cycles C
 *   linux-bench: online us: min A median B max C
 *   linux-bench: offline us: min A median B max C
 *   linux-bench: boot bring-up us: B
 *   linux-bench: done
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Writes "0" or "1" to cpuN/online; returns the time it took in ns, or -1. */
static long long set_online(int cpu, int online)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	long long start = now_ns();
	int ok = write(fd, online ? "1" : "0", 1) == 1;
	long long end = now_ns();
	close(fd);
	return ok ? end - start : -1;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, long long *v, int n)
{
	if (n == 0) {
		printf("linux-bench: %s us: min 0 median 0 max 0\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp);
	printf("linux-bench: %s us: min %lld median %lld max %lld\n", what, v[0] / 1000, v[n / 2] / 1000,
	       v[n - 1] / 1000);
}

/* Seconds stamp of the first kernel log line containing `needle`, or -1. */
static double log_stamp(const char *log, const char *needle)
{
	const char *hit = strstr(log, needle);
	if (!hit)
		return -1;
	const char *line = hit;
	while (line > log && line[-1] != '\n')
		line--;
	const char *open = strchr(line, '[');
	return open && open < hit ? atof(open + 1) : -1;
}

static int cycles_from_cmdline(void)
{
	char buf[1024] = {0};
	int fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	const char *c = strstr(buf, "cycles=");
	return c ? atoi(c + 7) : 10;
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);

	int cpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	int cycles = cycles_from_cmdline();
	printf("linux-bench: cpus %d cycles %d\n", cpus, cycles);

	int max = cycles * (cpus > 1 ? cpus - 1 : 1);
	long long *on = calloc(max, sizeof(*on)), *off = calloc(max, sizeof(*off));
	int n_on = 0, n_off = 0;
	for (int c = 0; c < cycles; c++) {
		for (int cpu = 1; cpu < cpus; cpu++) {
			long long t = set_online(cpu, 0);
			if (t >= 0)
				off[n_off++] = t;
			t = set_online(cpu, 1);
			if (t >= 0)
				on[n_on++] = t;
		}
	}
	report("online", on, n_on);
	report("offline", off, n_off);

	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *log = calloc(size > 0 ? size + 1 : 1, 1);
	if (size > 0 && klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size) > 0) {
		double first = log_stamp(log, "smp: Bringing up secondary CPUs");
		double last = log_stamp(log, "smp: Brought up");
		if (first >= 0 && last >= 0)
			printf("linux-bench: boot bring-up us: %lld\n", (long long)((last - first) * 1e6));
	}
	printf("linux-bench: done\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
