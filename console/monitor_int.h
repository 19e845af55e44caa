/* Shared by the monitor's two halves: monitor.c (the console's side: the
 * queue of results, monitor_take) and monitor_thread.c (the thread that
 * watches the store and talks to workers). */
#ifndef OSIO_CONSOLE_MONITOR_INT_H
#define OSIO_CONSOLE_MONITOR_INT_H

#include <stddef.h> /* monitor.h uses size_t */

#include "console/monitor.h"
#include "hypervisor/vmstore.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ctl_client;

enum mon_kind {
	MON_INFO,   /* info: a VM as vmstore_info saw it (added or changed) */
	MON_REMOVE, /* info.name: the VM is gone */
	MON_RETAIN, /* names: a full listing; every other VM is gone */
};

struct mon_update {
	struct mon_update *next;
	enum mon_kind kind;
	bool config; /* the VM's vmconfig or checkpoints changed */
	struct vm_info info;
	char **names; /* MON_RETAIN: vmstore_list's array */
	unsigned n;
};

/* The monitor thread's view of one VM of the store. */
struct mon_vm {
	char name[65];
	int wd, cp_wd;		/* inotify watches on its folder and checkpoints/; -1 none */
	bool worker;		/* the last vmstore_info saw a worker */
	bool dirty, config;	/* to look at again; its config changed */
	bool force;		/* the console asked: post it even if unchanged */
	bool seen;		/* a full listing had it */
	bool inflight;		/* a helper is looking at it */
	struct ctl_client *ctl; /* the event connection to its worker */
	int ctl_fd;		/* its socket (owned by ctl) */
	int conn_fd;		/* a connection waiting for the greeting; -1 none */
	unsigned long long conn_deadline, retry_at; /* ms, CLOCK_MONOTONIC */
	unsigned long long repeek_at;		    /* part of a greeting came: look then */
	unsigned backoff_ms;
	bool has_info;
	struct vm_info last; /* what was posted last */

	/* The periodic refresh over ctl: query-status and stats sent
	 * together, their replies making the row (vmstore_info for the
	 * rest: the first look, state events, a closed connection). */
	struct monitor *mon;	       /* for ctl's reply handler */
	long long status_id, stats_id; /* their requests while unanswered; 0: none */
	bool no_stats;		       /* the worker's stats is of no use: vmstore_info */
	bool cpu_valid;		       /* last.cpu_percent is from two of its samples */
	uint64_t cpu_ns, up_ns;	       /* the sample CPU % is measured from; up_ns 0: none */
	struct {		       /* what query-status said */
		bool ok;
		enum vm_state state;
		uint64_t memory;
		unsigned cpus;
		char vnc[128];
	} status;
};

struct monitor {
	struct loop *loop;
	void (*changed)(void *opaque);
	void *opaque;
	int notify_fd; /* eventfd: the thread has results */
	int wake_fd;   /* eventfd: the thread has requests (refresh, stop) */

	pthread_t thread;
	bool started;

	pthread_mutex_t lock; /* guards what follows, up to the thread's own */
	struct mon_update *head, **tail;
	bool stop;
	bool refresh_all;
	char (*refresh)[65];
	unsigned nrefresh, caprefresh;

	/* The console's thread only: VMs whose config changed. */
	char (*cfg)[65];
	unsigned ncfg, capcfg;

	/* The monitor thread only. */
	int inotify_fd;
	int vms_wd, run_wd;
	char vms_dir[4096], run_dir[4096];
	struct mon_vm **vms;
	unsigned nvms, capvms;
	bool rescan;
	unsigned long long next_tick; /* ms; 0 when no worker runs */
	char *peek;		      /* buffer for looking at a greeting */
	struct mon_pool *pool;
};

/* monitor_pool.c: vmstore_info on helper threads. */
struct mon_result {
	struct mon_result *next;
	char name[65];
	int rc; /* vmstore_info's */
	struct vm_info info;
};
struct mon_pool;
/* Starts the helpers (0, or -errno with a line in err). */
int mon_pool_start(struct mon_pool **out, char *err, size_t errlen);
/* Stops them; one still in a query frees what it has when it ends. */
void mon_pool_stop(struct mon_pool *p);
/* Readable when results wait. */
int mon_pool_fd(const struct mon_pool *p);
/* Asks for vmstore_info of name (false: out of memory). */
bool mon_pool_submit(struct mon_pool *p, const char *name);
/* The results so far, in order (free with mon_pool_free_results). */
struct mon_result *mon_pool_take(struct mon_pool *p);
void mon_pool_free_results(struct mon_result *r);

/* monitor_pool.c: what a worker's replies say. query-status into v->status
 * (stats' figures come from vmstore_stats_cpu); and info (what was posted
 * last) brought up to date with them: state, memory, vCPUs, VNC, uptime,
 * and CPU %, the vCPU time over the uptime between two samples at least
 * 200 ms apart (until there are two, info's stays). */
void mon_read_status(struct mon_vm *v, json_t *ret);
void mon_apply_sample(struct mon_vm *v, struct vm_info *info, uint64_t cpu_ns, uint64_t up_ns);

/* monitor.c: hand results to the console (wakes it). */
void mon_post(struct monitor *mon, struct mon_update *u);
/* monitor.c: what the console asked for since the last call: *all, or
 * names (an array of *n to free). Returns whether to stop. */
bool mon_requests(struct monitor *mon, bool *all, char (**names)[65], unsigned *n);

/* monitor_thread.c: watches set up in the caller's thread (errors into
 * err), the thread's body, and what it leaves to free. */
int mon_watch_init(struct monitor *mon, char *err, size_t errlen);
void *mon_thread_main(void *arg);
void mon_thread_free(struct monitor *mon);

#endif
