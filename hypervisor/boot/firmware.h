/* Booting through firmware (SeaBIOS): finding the BIOS and VGA BIOS images,
 * mapping the BIOS at the top of 4 GiB (the i440FX shadows its last
 * 128 KiB below 1 MiB), and the fw_cfg items SeaBIOS reads: the boot order
 * and (from the ACPI builder) the tables. */
#ifndef OSIO_FIRMWARE_H
#define OSIO_FIRMWARE_H

#include "hypervisor/machine.h"
#include "hypervisor/vmspec.h"

#include <stddef.h>

#define FIRMWARE_BIOS_DEFAULT "bios-256k.bin"
#define FIRMWARE_VGABIOS_DEFAULT "vgabios-stdvga.bin"

struct firmware {
	void *bios; /* page-aligned copy of the image */
	size_t bios_size;
	int slot;   /* its guest memory slot below 4 GiB */
};

/* Where a firmware file is: `configured` if not empty (it must exist),
 * else `name` in $OSIO_FIRMWARE_PATH (colon-separated), /usr/share/seabios,
 * /usr/share/qemu. 0, or -ENOENT with one logged line saying what was
 * looked for and how to install or name it. */
int firmware_find(const char *configured, const char *name, char *out, size_t size);

/* Reads the BIOS named by the spec (or the default), checks it, maps it,
 * hands it to the host bridge, and writes fw_cfg's "bootorder". */
int firmware_prepare(struct firmware *fw, struct machine *m, const struct vm_spec *spec);
void firmware_release(struct firmware *fw, struct machine *m);

/* The "bootorder" file's text for the spec's order and drives (for tests). */
int firmware_bootorder(const struct vm_spec *spec, char *out, size_t size);

#endif
