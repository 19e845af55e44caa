/* Firmware boot: BIOS image lookup, mapping and SeaBIOS's boot order. */
#include "hypervisor/boot/firmware.h"

#include "hypervisor/boot/acpi.h"
#include "hypervisor/boot/acpi_loader.h"
#include "hypervisor/boot/boot.h"
#include "hypervisor/boot/smbios.h"

#include "devices/device.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"
#include "hypervisor/pc.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIOS_MIN (64 * KiB)
#define BIOS_MAX (16 * MiB)

static const char *const default_dirs[] = { "/usr/share/seabios", "/usr/share/qemu" };

static bool readable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

int firmware_find(const char *configured, const char *name, char *out, size_t size)
{
	if (configured && *configured) {
		if (!readable(configured)) {
			log_error("firmware %s: %s", configured,
				  access(configured, F_OK) ? strerror(errno) : "not a readable file");
			return -ENOENT;
		}
		snprintf(out, size, "%s", configured);
		return 0;
	}
	const char *env = getenv("OSIO_FIRMWARE_PATH");
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(out, size, "%s/%s", d, name);
			if (readable(out)) {
				free(copy);
				return 0;
			}
		}
		free(copy);
	}
	for (size_t i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		snprintf(out, size, "%s/%s", default_dirs[i], name);
		if (readable(out))
			return 0;
	}
	log_error("firmware file %s not found in $OSIO_FIRMWARE_PATH, /usr/share/seabios or "
		  "/usr/share/qemu: install Debian's seabios package (scripts/install-deps.sh), or "
		  "name the file in the vmconfig's [boot] section",
		  name);
	return -ENOENT;
}

static int read_image(const char *path, struct firmware *fw)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("firmware %s: %s", path, strerror(errno));
		return -errno;
	}
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* The BIOS ends at 4 GiB and starts on a 64 KiB boundary; its last
	 * 128 KiB are what the CPU runs at reset. */
	if (st.st_size < (off_t)(128 * KiB) || st.st_size > (off_t)BIOS_MAX ||
	    st.st_size % (off_t)BIOS_MIN) {
		log_error("firmware %s is %lld bytes; a BIOS image is a multiple of 64 KiB from 128 KiB "
			  "to 16 MiB (Debian's is /usr/share/seabios/bios-256k.bin)",
			  path, (long long)st.st_size);
		r = -EINVAL;
		goto out;
	}
	fw->bios_size = (size_t)st.st_size;
	fw->bios = mmap(NULL, fw->bios_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (fw->bios == MAP_FAILED) {
		fw->bios = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (file_pread_all(fd, fw->bios, fw->bios_size, 0) < 0) {
		log_error("firmware %s: read failed", path);
		r = -EIO;
		goto out;
	}
out:
	close(fd);
	return r;
}

static const char *const ide_paths[VM_IDE_DRIVES] = {
	"/pci@i0cf8/ide@1,1/drive@0/disk@0",
	"/pci@i0cf8/ide@1,1/drive@0/disk@1",
	"/pci@i0cf8/ide@1,1/drive@1/disk@0",
	"/pci@i0cf8/ide@1,1/drive@1/disk@1",
};

int firmware_bootorder(const struct vm_spec *spec, char *out, size_t size)
{
	size_t n = 0;
	out[0] = 0;
	for (unsigned o = 0; o < spec->boot_order_n; o++) {
		enum drive_media want = spec->boot_order[o] == BOOT_DVD	   ? DRIVE_DVD
					: spec->boot_order[o] == BOOT_DISK ? DRIVE_DISK
									   : DRIVE_NONE;
		/* Network: each adapter's boot ROM, named by its PCI slot
		 * (SeaBIOS matches /pci@i0cf8/<any>@SLOT). */
		for (unsigned i = 0; want == DRIVE_NONE && i < spec->nnics; i++) {
			int w = snprintf(out + n, size - n, "/pci@i0cf8/ethernet@%x\n",
					 pc_nic_slot(spec, i));
			if (w < 0 || (size_t)w >= size - n)
				return -E2BIG;
			n += (size_t)w;
		}
		if (want == DRIVE_NONE)
			continue;
		for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
			if (spec->ide[i].media != want)
				continue;
			int w = snprintf(out + n, size - n, "%s\n", ide_paths[i]);
			if (w < 0 || (size_t)w >= size - n)
				return -E2BIG;
			n += (size_t)w;
		}
		/* Disks: IDE first, then virtio-blk, named as QEMU names them
		 * (SeaBIOS looks a virtio disk up by its PCI slot alone). */
		for (unsigned i = 0; want == DRIVE_DISK && i < spec->nvirtio; i++) {
			int w = snprintf(out + n, size - n, "/pci@i0cf8/scsi@%x/disk@0,0\n",
					 pc_virtio_disk_slot(spec, i));
			if (w < 0 || (size_t)w >= size - n)
				return -E2BIG;
			n += (size_t)w;
		}
	}
	/* Only what the order names: SeaBIOS boots nothing else. */
	int w = snprintf(out + n, size - n, "HALT\n");
	return w < 0 || (size_t)w >= size - n ? -E2BIG : 0;
}

/* The ACPI tables, handed to SeaBIOS through QEMU's table-loader files:
 * the firmware places them and patches their pointers and checksums. */
static int add_acpi_tables(struct machine *m)
{
	void *cfg = machine_device(m, "fw_cfg");
	if (!cfg)
		return 0;
	struct acpi_machine am;
	struct acpi_loader_blobs ab;
	acpi_machine_describe(&am, m);
	int r = acpi_build_loader(&am, &ab);
	if (r < 0) {
		log_error("cannot build the ACPI tables: %s", strerror(-r));
		return r;
	}
	if ((r = fw_cfg_add_file(cfg, ACPI_TABLES_FILE, ab.tables, ab.tables_size)) < 0 ||
	    (r = fw_cfg_add_file(cfg, ACPI_RSDP_FILE, ab.rsdp, ab.rsdp_size)) < 0 ||
	    (r = fw_cfg_add_file(cfg, ACPI_LOADER_FILE, ab.loader, ab.loader_size)) < 0)
		log_error("fw_cfg: cannot add the ACPI tables: %s", strerror(-r));
	acpi_loader_free(&ab);
	return r;
}

/* SMBIOS for SeaBIOS to place (it adds its own BIOS information). The UUID
 * stays in the tables only: fw_cfg's UUID item would make SeaBIOS print it
 * on the screen, which QEMU's default VMs do not. */
static int add_smbios_tables(struct machine *m, const struct vm_spec *spec)
{
	void *cfg = machine_device(m, "fw_cfg");
	if (!cfg)
		return 0;
	struct smbios_machine sm;
	struct smbios_tables st;
	smbios_describe(&sm, m, spec);
	int r = smbios_build(&sm, 0, &st);
	if (r < 0) {
		log_error("cannot build the SMBIOS tables: %s", strerror(-r));
		return r;
	}
	if ((r = fw_cfg_add_file(cfg, SMBIOS_ANCHOR_FILE, st.anchor, sizeof(st.anchor))) < 0 ||
	    (r = fw_cfg_add_file(cfg, SMBIOS_TABLES_FILE, st.tables, st.tables_size)) < 0)
		log_error("fw_cfg: cannot add the SMBIOS tables: %s", strerror(-r));
	smbios_free(&st);
	return r;
}

int firmware_prepare(struct firmware *fw, struct machine *m, const struct vm_spec *spec)
{
	memset(fw, 0, sizeof(*fw));
	fw->slot = -1;
	char path[PATH_MAX];
	int r = firmware_find(spec->bios, FIRMWARE_BIOS_DEFAULT, path, sizeof(path));
	if (r < 0 || (r = read_image(path, fw)) < 0)
		goto fail;
	void *hb = machine_device(m, "i440fx");
	if (!hb) {
		log_error("firmware boot needs the i440FX chipset");
		r = -ENODEV;
		goto fail;
	}
	fw->slot = guestmem_map(&m->mem, (1ull << 32) - fw->bios_size, fw->bios_size, fw->bios,
				MEM_READONLY, "bios");
	if (fw->slot < 0) {
		r = fw->slot;
		log_error("cannot map the BIOS below 4 GiB: %s", strerror(-r));
		goto fail;
	}
	if ((r = i440fx_set_bios(hb, fw->bios, fw->bios_size)) < 0)
		goto fail;
	if ((r = boot_fw_cfg_e820(m)) < 0 || (r = add_acpi_tables(m)) < 0 ||
	    (r = add_smbios_tables(m, spec)) < 0)
		goto fail;
	void *cfg = machine_device(m, "fw_cfg");
	char order[1024]; /* 4 IDE + 16 virtio disks + 8 adapters fit */
	if (cfg && ((r = firmware_bootorder(spec, order, sizeof(order))) < 0 ||
		    (r = fw_cfg_add_file(cfg, "bootorder", order, strlen(order))) < 0)) {
		log_error("fw_cfg: cannot add the boot order: %s", strerror(-r));
		goto fail;
	}
	if (tracing(TRACE_BOOT))
		log_trace("firmware: %s (%zu KiB) at 0x%llx; boot order:\n%s", path,
			  fw->bios_size >> 10, (unsigned long long)((1ull << 32) - fw->bios_size),
			  order);
	return 0;
fail:
	firmware_release(fw, m);
	return r;
}

void firmware_release(struct firmware *fw, struct machine *m)
{
	if (fw->slot >= 0)
		guestmem_unmap(&m->mem, fw->slot);
	if (fw->bios)
		munmap(fw->bios, fw->bios_size);
	memset(fw, 0, sizeof(*fw));
	fw->slot = -1;
}
