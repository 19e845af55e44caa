/* What the details pane shows of one VM, read from the store without a
 * terminal: its vmconfig (memory, processors, firmware, boot order, disks,
 * DVD drives, adapters and their switches, serial ports, display/VNC) and
 * its checkpoint tree, as flat lines ready to draw. */
#ifndef OSIO_CONSOLE_VMDETAILS_H
#define OSIO_CONSOLE_VMDETAILS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMD_MAX_DISKS 16
#define VMD_MAX_DVDS  4
#define VMD_MAX_NICS  16
#define VMD_MAX_CKPTS 256

struct vmd_disk {
	char section[72]; /* the [disk] section's name, "" unnamed */
	char where[32];	  /* "IDE 0:0", "virtio 1" */
	char file[PATH_MAX]; /* absolute */
	char format[16];     /* "vhdx", "qcow2", ...; "" when it could not be read */
	uint64_t size;	     /* virtual size, 0 unknown */
	uint64_t used;	     /* bytes the file takes on disk */
	bool readonly;
	bool differencing;
};

struct vmd_dvd {
	char section[72];
	char where[32];	     /* "IDE 1:0" */
	char file[PATH_MAX]; /* "" when empty */
};

struct vmd_nic {
	char name[72];	 /* section name, or "nic0", ... */
	char model[16];	 /* "e1000", "virtio" */
	char mac[18];	 /* "" until the first start gives it one */
	char sw[72];	 /* switch name, "" unplugged */
	char sw_type[16]; /* "nat", "private", "internal", "external", "" unknown */
};

struct vmd_ckpt {
	char id[9];
	char label[101];
	int64_t created;
	bool has_state;
	unsigned depth; /* 0 at the root */
	bool now;	/* the "Now" marker, a child of the checkpoint Now hangs under */
};

struct vm_details {
	char name[65];
	char vmconfig[PATH_MAX];
	char error[512]; /* the vmconfig could not be read: why ("" when fine) */
	uint64_t memory;
	unsigned cpus;
	char firmware[32]; /* "SeaBIOS (BIOS)", "kernel" */
	char boot[64];	   /* "dvd, disk, network" */
	char vnc[128];	   /* as configured: "auto", "127.0.0.1:5901", "none" */
	char notes[256];   /* [vm] notes / description, if any */
	unsigned ndisks, ndvds, nnics, nserial;
	struct vmd_disk disks[VMD_MAX_DISKS];
	struct vmd_dvd dvds[VMD_MAX_DVDS];
	struct vmd_nic nics[VMD_MAX_NICS];
	/* The checkpoint tree in display order (depth-first, oldest first),
	 * with a "Now" entry; nckpts 0 when there are none. */
	unsigned nckpts;
	struct vmd_ckpt ckpts[VMD_MAX_CKPTS + 1];
	char now_parent[9]; /* the checkpoint Now hangs under ("" none): Revert applies it */
};

/* Reads the store VM name. A vmconfig that fails to load still fills name
 * and error (and returns 0), so the pane can say what is wrong. -ENOENT for
 * no such VM, -ENOMEM. */
int vmdetails_load(const char *name, struct vm_details *d);

/* "2 GiB", "512 MiB", "1.5 GiB" (binary units, at most one decimal). */
void vmd_format_size(uint64_t bytes, char *buf, size_t size);
/* "3:04:05", "2 d 03:04" for an uptime; "" for 0. */
void vmd_format_uptime(uint64_t ns, char *buf, size_t size);

#endif
