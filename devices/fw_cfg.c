/* fw_cfg: QEMU's firmware configuration device on I/O ports (selector, data
 * and DMA registers), holding the items and files the boot code hands over. */
#include "devices/fw_cfg.h"

#include "devices/device.h"
#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FW_CFG_CTL_LEN	 2 /* selector (16-bit) overlapping the data byte */
#define FW_CFG_DMA_LEN	 8
#define FW_CFG_MAX_FILES (FW_CFG_ENTRY_MASK + 1 - FW_CFG_FILE_FIRST)
#define PAGE		 4096u

struct fw_item {
	uint8_t *data;
	uint32_t len;
	bool writable;
	fw_cfg_write_fn write_fn;
	void *opaque;
};

struct fw_file {
	char name[FW_CFG_MAX_FILE_PATH];
	struct fw_item item;
};

struct fw_cfg {
	struct machine *m;
	uint16_t base;
	bool dma;
	pthread_mutex_t lock;
	/* Keys below FW_CFG_FILE_FIRST: [0] generic, [1] arch-local. */
	struct fw_item keys[2][FW_CFG_FILE_FIRST];
	struct fw_file *files; /* sorted by name; file i has key FILE_FIRST + i */
	unsigned nfiles, cap;
	/* What the guest sees. */
	uint16_t cur_key;
	uint32_t offset;
	uint64_t dma_addr;
};

/* The item a selector names, or NULL for one nothing is behind. The write
 * channel bit is ignored, as QEMU does. Caller holds the lock. */
static struct fw_item *item_of(struct fw_cfg *fw, uint16_t key)
{
	unsigned index = key & FW_CFG_ENTRY_MASK;
	if (index < FW_CFG_FILE_FIRST)
		return &fw->keys[(key & FW_CFG_ARCH_LOCAL) ? 1 : 0][index];
	if (key & FW_CFG_ARCH_LOCAL || index - FW_CFG_FILE_FIRST >= fw->nfiles)
		return NULL;
	return &fw->files[index - FW_CFG_FILE_FIRST].item;
}

/* A copy of data[0..len) for an item (NULL for an empty one). */
static int copy_data(const void *data, size_t len, uint8_t **out)
{
	*out = NULL;
	if (len > UINT32_MAX)
		return -EFBIG;
	if (len == 0)
		return 0;
	if (!data)
		return -EINVAL;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, data, len);
	return 0;
}

/* Replaces an item's content with `data` (already a private copy). */
static void set_item(struct fw_item *it, uint8_t *data, size_t len)
{
	free(it->data);
	*it = (struct fw_item){.data = data, .len = (uint32_t)len};
}

static int set_key(struct fw_cfg *fw, uint16_t key, const void *data, size_t len)
{
	uint8_t *copy;
	int r = copy_data(data, len, &copy);
	if (r < 0)
		return r;
	pthread_mutex_lock(&fw->lock);
	set_item(item_of(fw, key), copy, len);
	pthread_mutex_unlock(&fw->lock);
	return 0;
}

int fw_cfg_add_bytes(void *opaque, uint16_t key, const void *data, size_t len)
{
	struct fw_cfg *fw = opaque;
	unsigned index = key & FW_CFG_ENTRY_MASK;
	if ((key & FW_CFG_WRITE_CHANNEL) || index >= FW_CFG_FILE_FIRST)
		return -EINVAL;
	if (!(key & FW_CFG_ARCH_LOCAL) && (index == FW_CFG_ID || index == FW_CFG_FILE_DIR))
		return -EINVAL;
	return set_key(fw, key, data, len);
}

int fw_cfg_add_u16(void *fw, uint16_t key, uint16_t value)
{
	uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u32(void *fw, uint16_t key, uint32_t value)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u64(void *fw, uint16_t key, uint64_t value)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

/* FILE_DIR for `n` files, with fw->files already in their final order.
 * Returns the new buffer (the caller installs it) or NULL. */
static uint8_t *build_dir(const struct fw_cfg *fw, unsigned n, size_t *len)
{
	*len = 4 + (size_t)n * sizeof(struct fw_cfg_file);
	uint8_t *d = calloc(1, *len);
	if (!d)
		return NULL;
	put_be32(d, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = d + 4 + (size_t)i * sizeof(struct fw_cfg_file);
		put_be32(e, fw->files[i].item.len);
		put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
		memcpy(e + 8, fw->files[i].name, FW_CFG_MAX_FILE_PATH);
	}
	return d;
}

static int add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len,
		    bool writable, fw_cfg_write_fn fn, void *opaque)
{
	size_t nlen = name ? strnlen(name, FW_CFG_MAX_FILE_PATH) : 0;
	if (nlen == 0)
		return -EINVAL;
	if (nlen >= FW_CFG_MAX_FILE_PATH)
		return -ENAMETOOLONG;
	uint8_t *copy;
	int r = copy_data(data, len, &copy);
	if (r < 0)
		return r;

	pthread_mutex_lock(&fw->lock);
	unsigned pos = 0;
	while (pos < fw->nfiles && strcmp(fw->files[pos].name, name) < 0)
		pos++;
	if (pos < fw->nfiles && strcmp(fw->files[pos].name, name) == 0) {
		r = -EEXIST;
		goto fail;
	}
	if (fw->nfiles == FW_CFG_MAX_FILES) {
		r = -ENOSPC;
		goto fail;
	}
	if (fw->nfiles == fw->cap) {
		unsigned cap = fw->cap ? fw->cap * 2 : 16;
		struct fw_file *nf = realloc(fw->files, cap * sizeof(*nf));
		if (!nf) {
			r = -ENOMEM;
			goto fail;
		}
		fw->files = nf;
		fw->cap = cap;
	}
	memmove(&fw->files[pos + 1], &fw->files[pos], (fw->nfiles - pos) * sizeof(*fw->files));
	struct fw_file *f = &fw->files[pos];
	memset(f, 0, sizeof(*f));
	memcpy(f->name, name, nlen);
	f->item = (struct fw_item){.data = copy,
				   .len = (uint32_t)len,
				   .writable = writable,
				   .write_fn = fn,
				   .opaque = opaque};
	size_t dlen;
	uint8_t *dir = build_dir(fw, fw->nfiles + 1, &dlen);
	if (!dir) {
		memmove(&fw->files[pos], &fw->files[pos + 1],
			(fw->nfiles - pos) * sizeof(*fw->files));
		r = -ENOMEM;
		goto fail;
	}
	fw->nfiles++;
	set_item(&fw->keys[0][FW_CFG_FILE_DIR], dir, dlen);
	pthread_mutex_unlock(&fw->lock);
	return 0;

fail:
	pthread_mutex_unlock(&fw->lock);
	free(copy);
	return r;
}

int fw_cfg_add_file(void *fw, const char *name, const void *data, size_t len)
{
	return add_file(fw, name, data, len, false, NULL, NULL);
}

int fw_cfg_add_file_writable(void *fw, const char *name, const void *data, size_t len,
			     fw_cfg_write_fn fn, void *opaque)
{
	return add_file(fw, name, data, len, true, fn, opaque);
}

/* Guest side. Everything below runs with the lock held. */

static void select_key(struct fw_cfg *fw, uint16_t key)
{
	fw->cur_key = key;
	fw->offset = 0;
	if (tracing(TRACE_DEV))
		log_trace("fw_cfg: select 0x%04x%s", key, item_of(fw, key) ? "" : " (nothing)");
}

/* Zeroes guest RAM [gpa, gpa+len): all of it, or nothing if any byte is not
 * RAM (checked page by page first when it spans regions). */
static int zero_fill(struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return -EFAULT;
	void *p = gpa_to_hva(mem, gpa, len);
	if (p) {
		memset(p, 0, len);
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t done = 0; done < len;) {
			uint64_t a = gpa + done;
			uint64_t n = PAGE - (a & (PAGE - 1));
			if (n > len - done)
				n = len - done;
			void *h = gpa_to_hva(mem, a, n);
			if (!h)
				return -EFAULT;
			if (pass)
				memset(h, 0, n);
			done += n;
		}
	}
	return 0;
}

enum dma_op { DMA_NONE, DMA_READ, DMA_WRITE, DMA_SKIP };

/* One FWCfgDmaAccess at fw->dma_addr, processed the way QEMU does: select,
 * then read, write or skip; control becomes 0 or the error bit. */
static void dma_transfer(struct fw_cfg *fw)
{
	struct guest_memory *mem = &fw->m->mem;
	uint64_t desc = fw->dma_addr;
	uint8_t raw[16], ctl[4];

	fw->dma_addr = 0; /* the next access starts from a clean address */
	if (guest_read(mem, desc, raw, sizeof(raw)) < 0) {
		/* Report it if the control word at least is reachable. */
		put_be32(ctl, FW_CFG_DMA_CTL_ERROR);
		guest_write(mem, desc, ctl, sizeof(ctl));
		return;
	}
	uint32_t control = get_be32(raw);
	uint32_t length = get_be32(raw + 4);
	uint64_t addr = get_be64(raw + 8);

	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(fw, (uint16_t)(control >> 16));
	enum dma_op op = DMA_NONE;
	if (control & FW_CFG_DMA_CTL_READ)
		op = DMA_READ;
	else if (control & FW_CFG_DMA_CTL_WRITE)
		op = DMA_WRITE;
	else if (control & FW_CFG_DMA_CTL_SKIP)
		op = DMA_SKIP;
	else
		length = 0;

	struct fw_item *it = item_of(fw, fw->cur_key);
	uint32_t status = 0;
	while (length > 0 && !(status & FW_CFG_DMA_CTL_ERROR)) {
		uint32_t n;
		if (!it || fw->offset >= it->len) {
			/* Past the end: reads give zeros, writes fail. */
			n = length;
			if (op == DMA_READ && zero_fill(mem, addr, n) < 0)
				status |= FW_CFG_DMA_CTL_ERROR;
			if (op == DMA_WRITE)
				status |= FW_CFG_DMA_CTL_ERROR;
		} else {
			n = it->len - fw->offset;
			if (n > length)
				n = length;
			uint8_t *data = it->data + fw->offset;
			if (op == DMA_READ && guest_write(mem, addr, data, n) < 0)
				status |= FW_CFG_DMA_CTL_ERROR;
			if (op == DMA_WRITE) {
				/* Within the item only; guest_read copies nothing
				 * unless all of the source is RAM or ROM. */
				if (!it->writable || n != length ||
				    guest_read(mem, addr, data, n) < 0)
					status |= FW_CFG_DMA_CTL_ERROR;
				else if (it->write_fn)
					it->write_fn(it->opaque, fw->offset, data, n);
			}
			fw->offset += n;
		}
		addr += n;
		length -= n;
	}
	put_be32(ctl, status);
	guest_write(mem, desc, ctl, sizeof(ctl));
}

static uint64_t ctl_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fw_cfg *fw = opaque;
	if (size != 1)
		return 0; /* QEMU accepts only byte reads here */
	uint8_t v = 0;
	pthread_mutex_lock(&fw->lock);
	struct fw_item *it = item_of(fw, fw->cur_key);
	if (it && fw->offset < it->len)
		v = it->data[fw->offset++];
	pthread_mutex_unlock(&fw->lock);
	return v;
}

static void ctl_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fw_cfg *fw = opaque;
	if (size == 2 && offset == FW_CFG_PORT_SEL) {
		pthread_mutex_lock(&fw->lock);
		select_key(fw, (uint16_t)value);
		pthread_mutex_unlock(&fw->lock);
	} else if (tracing(TRACE_DEV)) {
		/* Byte writes to the data register do nothing since QEMU 2.4. */
		log_trace("fw_cfg: %u-byte write of 0x%llx at +%llu ignored", size,
			  (unsigned long long)value, (unsigned long long)offset);
	}
}

static uint64_t dma_reg_read(void *opaque, uint64_t offset, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size && offset + i < FW_CFG_DMA_LEN; i++) {
		uint8_t b = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (56 - 8 * (offset + i)));
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void dma_reg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fw_cfg *fw = opaque;
	/* The register is big-endian: the guest's first byte is the most
	 * significant one. */
	pthread_mutex_lock(&fw->lock);
	if (size == 4 && offset == 0) {
		fw->dma_addr = (uint64_t)__builtin_bswap32((uint32_t)value) << 32;
	} else if (size == 4 && offset == 4) {
		fw->dma_addr |= __builtin_bswap32((uint32_t)value);
		dma_transfer(fw);
	} else if (size == 8 && offset == 0) {
		fw->dma_addr = __builtin_bswap64(value);
		dma_transfer(fw);
	}
	pthread_mutex_unlock(&fw->lock);
}

static const struct bus_ops ctl_ops = {.read = ctl_read, .write = ctl_write};
static const struct bus_ops dma_ops = {.read = dma_reg_read, .write = dma_reg_write};

static void fw_cfg_reset(void *state)
{
	struct fw_cfg *fw = state;
	pthread_mutex_lock(&fw->lock);
	fw->cur_key = FW_CFG_SIGNATURE;
	fw->offset = 0;
	fw->dma_addr = 0;
	pthread_mutex_unlock(&fw->lock);
}

/* Saved state: where the guest is in the selected item and a DMA address
 * half written. The items are the machine's settings: the worker puts the
 * same ones in before it loads the state. */
static void fw_cfg_save(void *state, struct vmstate_out *out)
{
	struct fw_cfg *fw = state;
	pthread_mutex_lock(&fw->lock);
	vmstate_put_u64(out, "selector", fw->cur_key);
	vmstate_put_u64(out, "offset", fw->offset);
	vmstate_put_u64(out, "dma_addr", fw->dma_addr);
	pthread_mutex_unlock(&fw->lock);
}

static int fw_cfg_load(void *state, struct vmstate_section *in)
{
	struct fw_cfg *fw = state;
	uint16_t key;
	uint32_t offset;
	uint64_t dma_addr;
	int r;
	if ((r = vmstate_get_u16(in, "selector", UINT16_MAX, &key)) < 0 ||
	    (r = vmstate_get_u32(in, "offset", UINT32_MAX, &offset)) < 0 ||
	    (r = vmstate_get_u64(in, "dma_addr", UINT64_MAX, &dma_addr)) < 0)
		return r;
	/* Only the high half is ever held: a write of the low half starts
	 * the transfer and clears the address. */
	if ((uint32_t)dma_addr || (dma_addr && !fw->dma))
		return vmstate_fail(in, "dma_addr: 0x%016llx is not a half-written address",
				    (unsigned long long)dma_addr);
	pthread_mutex_lock(&fw->lock);
	struct fw_item *it = item_of(fw, key);
	uint32_t len = it ? it->len : 0;
	if (offset > len) {
		pthread_mutex_unlock(&fw->lock);
		return vmstate_fail(in, "offset: %u is past the end of item 0x%04x (%u bytes)",
				    offset, key, len);
	}
	fw->cur_key = key;
	fw->offset = offset;
	fw->dma_addr = dma_addr;
	pthread_mutex_unlock(&fw->lock);
	return 0;
}

static void free_items(struct fw_cfg *fw)
{
	for (int a = 0; a < 2; a++)
		for (int k = 0; k < FW_CFG_FILE_FIRST; k++)
			free(fw->keys[a][k].data);
	for (unsigned i = 0; i < fw->nfiles; i++)
		free(fw->files[i].item.data);
	free(fw->files);
}

static void fw_cfg_destroy(void *state)
{
	struct fw_cfg *fw = state;
	bus_unregister(fw->m->pio, fw->base, fw);
	if (fw->dma)
		bus_unregister(fw->m->pio, fw->base + FW_CFG_PORT_DMA_HIGH, fw);
	free_items(fw);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

/* The items the model itself provides. */
static int fill_standard(struct fw_cfg *fw)
{
	struct machine *m = fw->m;
	uint8_t zero[16] = {0};
	uint8_t id[4] = {FW_CFG_VERSION | (fw->dma ? FW_CFG_VERSION_DMA : 0), 0, 0, 0};
	uint8_t dir[4] = {0};
	int r;

	if ((r = set_key(fw, FW_CFG_SIGNATURE, "QEMU", 4)) < 0 ||
	    (r = set_key(fw, FW_CFG_ID, id, sizeof(id))) < 0 ||
	    (r = set_key(fw, FW_CFG_UUID, zero, sizeof(zero))) < 0 ||
	    (r = fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, m->ram_below_4g + m->ram_above_4g)) < 0 ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_NOGRAPHIC, 0)) < 0 ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, (uint16_t)m->cpus)) < 0 ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, (uint16_t)m->cpus)) < 0 ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, 0)) < 0)
		return r;
	return set_key(fw, FW_CFG_FILE_DIR, dir, sizeof(dir));
}

static int fw_cfg_create(struct machine *m, const char *id, const struct devargs *args,
			 void **state)
{
	static const char *const known[] = {"base", "dma", NULL};
	const uint64_t max_base = 0x10000 - FW_CFG_PORT_DMA_HIGH - FW_CFG_DMA_LEN;
	int r = devargs_check_keys(args, "fw_cfg", known);
	if (r < 0)
		return r;
	uint64_t base;
	if (devargs_u64(args, "base", PORT_FW_CFG, max_base, &base) < 0) {
		log_error("fw_cfg: base=%s: expected an I/O port number from 0 to 0x%llx",
			  devargs_get(args, "base"), (unsigned long long)max_base);
		return -EINVAL;
	}
	bool dma = true;
	const char *d = devargs_get(args, "dma");
	if (d && strcmp(d, "yes") != 0 && strcmp(d, "no") != 0) {
		log_error("fw_cfg: dma=%s: expected yes or no", d);
		return -EINVAL;
	}
	if (d)
		dma = strcmp(d, "yes") == 0;
	if (m->cpus > UINT16_MAX) {
		log_error("fw_cfg: %u vCPUs do not fit its 16-bit CPU count", m->cpus);
		return -EINVAL;
	}

	struct fw_cfg *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return -ENOMEM;
	fw->m = m;
	fw->base = (uint16_t)base;
	fw->dma = dma;
	pthread_mutex_init(&fw->lock, NULL);
	r = fill_standard(fw);
	if (r < 0) {
		log_error("fw_cfg: cannot set up its items: %s", strerror(-r));
		goto fail_items;
	}
	r = bus_register(m->pio, fw->base, FW_CFG_CTL_LEN, &ctl_ops, fw, "fw_cfg");
	if (r < 0)
		goto fail_items;
	if (dma) {
		r = bus_register(m->pio, fw->base + FW_CFG_PORT_DMA_HIGH, FW_CFG_DMA_LEN, &dma_ops,
				 fw, "fw_cfg");
		if (r < 0)
			goto fail_ctl;
	}
	fw_cfg_reset(fw);
	*state = fw;
	return 0;

fail_ctl:
	bus_unregister(m->pio, fw->base, fw);
fail_items:
	free_items(fw);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
	return r;
}

static const struct device_model fw_cfg_model = {
    .name = "fw_cfg",
    .description = "QEMU firmware configuration interface (ports 0x510/0x511, DMA at 0x514)",
    .create = fw_cfg_create,
    .reset = fw_cfg_reset,
    .destroy = fw_cfg_destroy,
    .state_version = 1,
    .save = fw_cfg_save,
    .load = fw_cfg_load,
};
DEVICE_MODEL(fw_cfg_model);
