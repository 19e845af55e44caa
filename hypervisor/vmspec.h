/* A VM's settings as the worker consumes them: built from a vmconfig file
 * (vmconfig/spec.c) or from `osio run` options, validated before a VM is
 * created. Paths are absolute or relative to the current directory by the
 * time they get here. */
#ifndef OSIO_VMSPEC_H
#define OSIO_VMSPEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_NAME_MAX 64
#define VM_SERIAL_PORTS 4
#define VM_APPEND_MAX 4096

enum on_reboot {
	ON_REBOOT_RESET, /* the guest's reboot resets the VM (default) */
	ON_REBOOT_EXIT,	 /* the guest's reboot ends osio with status 0 */
};

enum serial_backend {
	SERIAL_NONE,   /* the port exists, its output is dropped */
	SERIAL_STDIO,  /* osio's terminal (raw mode, escape key) or pipes */
	SERIAL_PTY,    /* a new pseudo-terminal; its path is printed */
	SERIAL_SOCKET, /* a Unix stream socket osio listens on */
	SERIAL_FILE,   /* output appended to a file; no input */
};

struct serial_spec {
	bool present;
	enum serial_backend backend;
	char path[PATH_MAX]; /* socket or file path */
};

struct vm_spec {
	char name[VM_NAME_MAX];
	uint64_t memory; /* bytes */
	unsigned cpus;
	bool hugepages;
	enum on_reboot on_reboot;

	/* Direct kernel boot: a bzImage (Linux boot protocol) or a multiboot
	 * ELF kernel, told apart by their headers. */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX]; /* "" for none; a multiboot module otherwise */
	char append[VM_APPEND_MAX];

	struct serial_spec serial[VM_SERIAL_PORTS]; /* COM1..COM4 */
};

/* Defaults: name "vm", 512 MiB, 1 vCPU, on_reboot reset, COM1 on stdio. */
void vm_spec_defaults(struct vm_spec *s);

#endif
