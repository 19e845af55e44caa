/* `osio list`: every VM in the store with its state, CPU, memory, uptime and
 * VNC address, like Hyper-V Manager's list; running VMs are asked in
 * parallel so that a slow or hung worker costs the list one short timeout. */
#include "cli/commands.h"
#include "cli/disk_common.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_THREADS 16

struct list_job {
	char **names;
	unsigned n;
	struct vm_info *info;
	int *status;
	atomic_uint next;
};

static void *list_worker(void *opaque)
{
	struct list_job *job = opaque;

	for (unsigned i; (i = atomic_fetch_add(&job->next, 1)) < job->n;)
		job->status[i] = vmstore_info(job->names[i], &job->info[i]);
	return NULL;
}

/* vmstore_info for every name, several at a time. */
static void gather(struct list_job *job)
{
	pthread_t threads[LIST_THREADS];
	unsigned nthreads = job->n < LIST_THREADS ? job->n : LIST_THREADS, started = 0;

	atomic_init(&job->next, 0);
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, list_worker, job) != 0)
			break;
	if (started == 0)
		list_worker(job);
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

static bool is_up(enum vm_state s)
{
	return s == VM_STARTING || s == VM_RUNNING || s == VM_PAUSED || s == VM_SAVING;
}

/* "1:02:03", "3d 04:05:06". */
static const char *format_uptime(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000ull;

	if (s >= 86400)
		snprintf(buf, size, "%llud %02llu:%02llu:%02llu", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, size, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	return buf;
}

static void print_table(const struct list_job *job)
{
	int w = 4;

	for (unsigned i = 0; i < job->n; i++)
		if (job->status[i] == 0 && (int)strlen(job->info[i].name) > w)
			w = (int)strlen(job->info[i].name);
	printf("%-*s  %-8s  %4s  %9s  %11s  %s\n", w, "Name", "State", "CPU", "Memory", "Uptime",
	       "VNC");
	for (unsigned i = 0; i < job->n; i++) {
		const struct vm_info *v = &job->info[i];
		char cpu[16] = "-", mem[32] = "-", up[32] = "-";

		if (job->status[i] < 0)
			continue; /* deleted meanwhile */
		if (is_up(v->state)) {
			snprintf(cpu, sizeof(cpu), "%.0f%%", v->cpu_percent);
			format_uptime(v->uptime_ns, up, sizeof(up));
		}
		if (v->memory)
			disk_format_size(v->memory, mem, sizeof(mem));
		printf("%-*s  %-8s  %4s  %9s  %11s  %s\n", w, v->name, vm_state_name(v->state), cpu,
		       mem, up, v->vnc[0] ? v->vnc : "-");
		if (v->state != VM_CRASHED)
			continue;
		if (!v->log_tail[0]) {
			printf("    (worker.log says nothing: osio start %s runs it again)\n",
			       v->name);
			continue;
		}
		for (const char *p = v->log_tail; p && *p;) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);
			printf("    | %.*s\n", len, p);
			p = nl ? nl + 1 : NULL;
		}
	}
}

static json_t *info_json(const struct vm_info *v)
{
	json_t *o = json_object(), *lines = json_array();
	char state[16];
	bool up = is_up(v->state);

	snprintf(state, sizeof(state), "%s", vm_state_name(v->state));
	for (char *p = state; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	json_object_set_new(o, "name", json_string(v->name));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "pid", v->pid && up ? json_integer(v->pid) : json_null());
	json_object_set_new(o, "cpu_percent", up ? json_real(v->cpu_percent) : json_null());
	json_object_set_new(o, "memory", json_integer((json_int_t)v->memory));
	json_object_set_new(o, "cpus", json_integer(v->cpus));
	json_object_set_new(o, "uptime_s",
			    up ? json_integer((json_int_t)(v->uptime_ns / 1000000000ull))
			       : json_null());
	json_object_set_new(o, "vnc", v->vnc[0] ? json_string(v->vnc) : json_null());
	for (const char *p = v->log_tail; v->state == VM_CRASHED && p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		json_array_append_new(lines, json_stringn(p, len));
		p = nl ? nl + 1 : NULL;
	}
	json_object_set_new(o, "log", v->state == VM_CRASHED ? lines : json_null());
	if (v->state != VM_CRASHED)
		json_decref(lines);
	return o;
}

static void print_json(const struct list_job *job)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < job->n; i++)
		if (job->status[i] == 0)
			json_array_append_new(a, info_json(&job->info[i]));
	char *text = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(a);
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct list_job job = {0};
	bool json = false;
	int c, r;

	log_set_prog("osio list");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf(
			    "usage: osio list [--json]\n"
			    "\n"
			    "Every VM in the store: state (Off, Starting, Running, Paused, "
			    "Saving,\n"
			    "Saved, Crashed), CPU use, memory, uptime and VNC address. A Crashed\n"
			    "VM's worker died: the last lines of its log are shown under it.\n"
			    "--json prints an array of objects (osio(1) lists their fields).\n");
			return 0;
		default:
			log_error("unknown option '%s' (see osio list --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		log_error("osio list takes no names (osio status NAME shows one VM)");
		return 2;
	}
	if ((r = vmstore_list(&job.names, &job.n)) < 0) {
		log_error("cannot read the VM store: %s", strerror(-r));
		return 1;
	}
	job.info = calloc(job.n ? job.n : 1, sizeof(*job.info));
	job.status = calloc(job.n ? job.n : 1, sizeof(*job.status));
	if (!job.info || !job.status) {
		log_error("out of memory");
		r = -ENOMEM;
		goto out;
	}
	gather(&job);
	if (json)
		print_json(&job);
	else
		print_table(&job);
out:
	free(job.info);
	free(job.status);
	vmstore_free_names(job.names);
	return r < 0 ? 1 : 0;
}
