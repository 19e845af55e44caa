/* The data behind the console's wizards, without a terminal: the New VM
 * wizard's choices, their checks page by page and the `osio create` they
 * become; the New Virtual Hard Disk wizard's and Edit Disk's the same. */
#ifndef OSIO_CONSOLE_NEWVM_H
#define OSIO_CONSOLE_NEWVM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- New Virtual Machine ---------------------------------------------------- */

enum newvm_page {
	NEWVM_PAGE_BEGIN,
	NEWVM_PAGE_NAME,
	NEWVM_PAGE_GENERATION,
	NEWVM_PAGE_MEMORY,
	NEWVM_PAGE_CPUS,
	NEWVM_PAGE_NETWORK,
	NEWVM_PAGE_DISK,
	NEWVM_PAGE_INSTALL,
	NEWVM_PAGE_SUMMARY,
	NEWVM_PAGE_COUNT
};

/* The value a check found wrong (for the wizard to put the focus on). */
enum newvm_field {
	NEWVM_F_NONE,
	NEWVM_F_NAME,
	NEWVM_F_MEMORY,
	NEWVM_F_CPUS,
	NEWVM_F_SWITCH,
	NEWVM_F_DISK_SIZE,
	NEWVM_F_DISK_FILE,
	NEWVM_F_ISO,
};

enum newvm_disk { NEWVM_DISK_NEW, NEWVM_DISK_EXISTING, NEWVM_DISK_LATER };
enum newvm_install { NEWVM_INSTALL_LATER, NEWVM_INSTALL_ISO, NEWVM_INSTALL_NETWORK };
enum newvm_bus { NEWVM_BUS_IDE, NEWVM_BUS_VIRTIO };
enum newvm_nic { NEWVM_NIC_E1000, NEWVM_NIC_VIRTIO };

#define NEWVM_DEFAULT_MEMORY "2G"
#define NEWVM_DEFAULT_DISK   "40G"
#define NEWVM_MIN_MEMORY     (32ull << 20)

struct newvm {
	char name[65];
	char memory[32];
	char cpus[16];
	int nic;     /* enum newvm_nic */
	char sw[72]; /* the adapter's switch, "" for Not connected */
	int disk;    /* enum newvm_disk */
	char disk_size[32];
	int bus;		  /* enum newvm_bus */
	char disk_file[PATH_MAX]; /* NEWVM_DISK_EXISTING */
	int install;		  /* enum newvm_install */
	char iso[PATH_MAX];	  /* NEWVM_INSTALL_ISO */
	bool start;		  /* start it once it is made */
	/* The host's limits the checks apply (newvm_init fills them). */
	uint64_t host_memory;
	unsigned host_cpus;
};

/* Hyper-V's defaults: 2G, 2 vCPUs (1 on a one-CPU host), an e1000 on the
 * switch "default", a new 40G disk on IDE, install from an ISO (none
 * chosen yet), start afterwards; the host's RAM and CPUs. */
void newvm_init(struct newvm *w);

/* Each check: 0, or -EINVAL with one sentence (what is wrong and what to
 * do) in why. */
int newvm_check_name(const char *name, char *why, size_t whylen);
/* A size as vmconfig writes it, 32 MiB up to host_memory; *bytes (may be
 * NULL) gets it. */
int newvm_check_memory(const char *s, uint64_t host_memory, uint64_t *bytes, char *why,
		       size_t whylen);
int newvm_check_cpus(const char *s, unsigned host_cpus, char *why, size_t whylen);
/* A new disk's size: at least 1 MiB, at most 64 TiB (VHDX's limit). */
int newvm_check_disk_size(const char *s, uint64_t *bytes, char *why, size_t whylen);
/* An existing image the VM will use: a regular file (or block device) it
 * can read and write. */
int newvm_check_disk_file(const char *path, char *why, size_t whylen);
/* An installation ISO: a regular file that can be read. */
int newvm_check_iso(const char *path, char *why, size_t whylen);

/* Everything the page asks for; *bad (may be NULL) names the field. */
int newvm_check_page(const struct newvm *w, enum newvm_page page, char *why, size_t whylen,
		     enum newvm_field *bad);
/* Every page in order: the first that fails into *page (may be NULL). */
int newvm_check_all(const struct newvm *w, enum newvm_page *page, char *why, size_t whylen,
		    enum newvm_field *bad);

/* The boot order the choices imply: "dvd, disk" for an ISO, "network,
 * disk" for a network installation, "disk, dvd" otherwise. */
const char *newvm_boot_order(const struct newvm *w);
/* The `osio create` arguments (args[0] "create", NULL-terminated; the
 * strings point into w or are constants) into args[0..max). Returns how
 * many (without the NULL), or 0 when max is too small. */
unsigned newvm_create_args(const struct newvm *w, const char **args, unsigned max);
/* The summary the last page shows: "Name: web\nMemory: 2G\n..." */
void newvm_summary(const struct newvm *w, char *buf, size_t size);

/* After `osio create NAME --disk none`, for NEWVM_DISK_EXISTING: adds the
 * image as the VM's [disk "system"] (absolute path, the chosen bus, IDE
 * 0:0) to its vmconfig through the vmconfig writer, under the VM's
 * command lock. 0, or -errno with a sentence in err. */
int newvm_attach_disk(const struct newvm *w, char *err, size_t errlen);

/* --- New Virtual Hard Disk ---------------------------------------------------- */

enum newdisk_format { NEWDISK_VHDX, NEWDISK_VHD, NEWDISK_QCOW2, NEWDISK_RAW, NEWDISK_FORMATS };
enum newdisk_type { NEWDISK_DYNAMIC, NEWDISK_FIXED, NEWDISK_DIFFERENCING };

struct newdisk {
	int format; /* enum newdisk_format */
	int type;   /* enum newdisk_type */
	char parent[PATH_MAX];
	char dir[PATH_MAX];
	char name[256];
	char size[32];		   /* differencing: "" takes the parent's */
	char path[PATH_MAX + 256]; /* dir/name, by newdisk_check_page or newdisk_create_args */
};

/* "vhdx", "vhd", "qcow2", "raw"; the file extension of a format ("vhdx",
 * "vhd", "qcow2", "img"). */
const char *newdisk_format_name(int format);
const char *newdisk_format_ext(int format);

/* VHDX, dynamic, 40G, dir (NULL: the current folder), "New Virtual Hard
 * Disk.vhdx". */
void newdisk_init(struct newdisk *d, const char *dir);
/* Pages: 0 format, 1 type (raw: no differencing; a parent that exists),
 * 2 location (a folder that exists, a name without '/', no such file),
 * 3 size. 0 or -EINVAL with why. */
int newdisk_check_page(struct newdisk *d, int page, char *why, size_t whylen);
/* `osio disk create PATH --format F (--type T --size S | --parent P
 * [--size S])` into args (args[0] "disk"); the count, 0 when max is too
 * small. */
unsigned newdisk_create_args(struct newdisk *d, const char **args, unsigned max);

/* --- Edit Disk ----------------------------------------------------------------- */

struct diskinfo {
	char format[16];
	char subformat[32];
	uint64_t virtual_size, file_size, actual_size;
	uint64_t block_size;
	unsigned logical_sector, physical_sector;
	bool dirty;
	char parent[PATH_MAX];
	unsigned nparents; /* the chain's length */
};

/* Reads `osio disk info --json`'s object. 0, or -EINVAL with why. */
int diskinfo_parse(const char *json, struct diskinfo *out, char *why, size_t whylen);
/* The lines Edit Disk shows for it. */
void diskinfo_format(const struct diskinfo *in, const char *path, char *buf, size_t size);
/* Expand: a new size larger than the current one (a '+' prefix adds). */
int diskinfo_check_resize(const struct diskinfo *in, const char *s, char *why, size_t whylen);

#endif
