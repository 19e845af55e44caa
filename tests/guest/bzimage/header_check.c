/* Checks on what the loader copied and filled in: the protected-mode part (CRC-32), the setup
 * header (read-only fields and loader fields), the setup_data list and screen_info. */
#include "guest.h"

#define MiB ((uint64_t)1 << 20)

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void check_image(const struct boot_ctx *c)
{
	uint32_t len = rd32(image_info + II_CRC_LEN), want = rd32(image_info + II_CRC);
	uint32_t at = PM_IMAGE_INFO + II_CRC;
	static const uint8_t zero[4];
	uint32_t crc;

	(void)c;
	crc = crc32_update(0, _start, at);
	crc = crc32_update(crc, zero, sizeof(zero));
	crc = crc32_update(crc, _start + at + 4, len - at - 4);
	if (crc == want)
		pass("image: protected-mode part loaded intact (crc32 of %u bytes)", len);
	else
		fail("image: protected-mode part has crc32 0x%08x, mkbzimage recorded 0x%08x", crc,
		     want);
}

#define SAME(field, value)                                                                         \
	do {                                                                                       \
		if ((uint64_t)(h->field) != (uint64_t)(value))                                     \
			fail("header: " #field " is 0x%lx, the image has 0x%lx",                   \
			     (uint64_t)(h->field), (uint64_t)(value));                             \
	} while (0)

void check_header(const struct boot_ctx *c)
{
	const struct setup_header *h = &c->bp->hdr;
	unsigned before = failures;

	/* Fields the loader reads and must leave as the image has them. */
	SAME(boot_flag, BOOT_FLAG_VALUE);
	SAME(jump, 0xeb | (HDR_END - HDR_MAGIC) << 8);
	SAME(header, HDR_MAGIC_VALUE);
	SAME(version, BOOT_PROTOCOL);
	SAME(setup_sects, rd32(image_info + II_SETUP_SECTS));
	SAME(syssize, rd32(image_info + II_SYSSIZE));
	SAME(start_sys_seg, 0x1000);
	SAME(initrd_addr_max, INITRD_ADDR_MAX);
	SAME(kernel_alignment, KERNEL_ALIGNMENT);
	SAME(relocatable_kernel, 0);
	SAME(min_alignment, KERNEL_MIN_ALIGN);
	SAME(xloadflags, XLF_KERNEL_64);
	SAME(cmdline_size, CMDLINE_SIZE);
	SAME(payload_offset, 0);
	SAME(payload_length, 0);
	SAME(pref_address, KERNEL_LOAD_ADDR);
	SAME(init_size, rd32(image_info + II_MEM_SIZE));
	SAME(handover_offset, 0);
	SAME(kernel_info_offset, PM_KERNEL_INFO);
	/* Not relocatable: the loader leaves code32_start, and the code runs there. */
	SAME(code32_start, KERNEL_LOAD_ADDR);
	if (c->bp->sentinel)
		fail("header: boot_params.sentinel is 0x%x: the loader copied more than the "
		     "setup header",
		     c->bp->sentinel);
	if (failures == before)
		pass("header: the fields a loader must not change are as the image has them");

	before = failures;
	peer("header: type_of_loader 0x%02x ext %u.%u, loadflags 0x%02x, heap_end_ptr 0x%x, "
	     "vid_mode 0x%x",
	     h->type_of_loader, h->ext_loader_type, h->ext_loader_ver, h->loadflags,
	     h->heap_end_ptr, h->vid_mode);
	if (h->type_of_loader == 0)
		fail("header: type_of_loader is 0 (obligatory; 0xff for a loader without an id)");
	if (!(h->loadflags & LOADED_HIGH))
		fail("header: loadflags 0x%02x lost LOADED_HIGH", h->loadflags);
	if (h->loadflags & (KEEP_SEGMENTS | KASLR_FLAG))
		fail("header: loadflags 0x%02x has KEEP_SEGMENTS or KASLR_FLAG set", h->loadflags);
	if (h->loadflags & CAN_USE_HEAP) {
		/* heap_end_ptr: end of the setup heap/stack minus 0x200, from the start of the
		 * real-mode code, past the setup sectors and inside the 64 KiB segment. */
		uint32_t end = (uint32_t)h->heap_end_ptr + 0x200;
		uint32_t setup = ((uint32_t)h->setup_sects + 1) * 512;

		if (end < setup || end > 0x10000)
			fail("header: heap_end_ptr 0x%x: heap end 0x%x outside 0x%x-0x10000",
			     h->heap_end_ptr, end, setup);
	}
	if (h->hardware_subarch != 0)
		fail("header: hardware_subarch is %u, not 0 (PC)", h->hardware_subarch);
	if (failures == before)
		pass("header: the fields a loader sets are valid");
}

void check_setup_data(const struct boot_ctx *c)
{
	uint64_t at = c->bp->hdr.setup_data;
	unsigned before = failures, n = 0;

	for (; at && n < 32; n++) {
		if (!mapped(at, sizeof(struct setup_data))) {
			fail("setup_data: node at 0x%lx is outside the first 4 GiB", at);
			return;
		}
		const struct setup_data *d = (const struct setup_data *)(uintptr_t)at;
		uint64_t len = sizeof(*d) + d->len;

		peer("setup_data: type 0x%x, %u bytes at 0x%lx", d->type, d->len, at);
		if (!mapped(at, len))
			fail("setup_data: node at 0x%lx (%u bytes) runs past 4 GiB", at, d->len);
		if (overlaps(at, len, c->kernel_start, c->kernel_size))
			fail("setup_data: node at 0x%lx overlaps the kernel's init_size", at);
		if (overlaps(at, len, c->bp_addr, BP_SIZE))
			fail("setup_data: node at 0x%lx overlaps boot_params", at);
		if (c->initrd_size && overlaps(at, len, c->initrd_addr, c->initrd_size))
			fail("setup_data: node at 0x%lx overlaps the initrd", at);
		at = d->next;
	}
	if (at)
		fail("setup_data: list longer than 32 nodes (a loop?)");
	if (failures == before)
		pass("setup_data: list well formed, clear of kernel, boot_params and initrd");
}

/* screen_info must describe no display (all zero), a text mode the cursor lies in, or a linear
 * framebuffer with a sane geometry. */
void check_video(const struct boot_ctx *c)
{
	const struct screen_info *si = &c->bp->screen_info;
	static const uint8_t zero[SI_SIZE];
	unsigned before = failures;

	if (memcmp(si, zero, sizeof(zero)) == 0) {
		peer("video: none (screen_info all zero)");
	} else if (si->orig_video_is_vga == 0x23 || si->orig_video_is_vga == 0x70) {
		peer("video: framebuffer %ux%u, %u bpp, stride %u at 0x%x", si->lfb_width,
		     si->lfb_height, si->lfb_depth, si->lfb_linelength, si->lfb_base);
		if (!si->lfb_width || !si->lfb_height || !si->lfb_depth || !si->lfb_base ||
		    si->lfb_linelength < (uint32_t)si->lfb_width * si->lfb_depth / 8)
			fail("video: framebuffer geometry %ux%u %u bpp stride %u base 0x%x",
			     si->lfb_width, si->lfb_height, si->lfb_depth, si->lfb_linelength,
			     si->lfb_base);
	} else {
		peer("video: text mode 0x%02x, %ux%u, %u-line font, cursor %u,%u, page %u, "
		     "isVGA %u, ega_bx 0x%04x, flags 0x%x",
		     si->orig_video_mode, si->orig_video_cols, si->orig_video_lines,
		     si->orig_video_points, si->orig_x, si->orig_y, si->orig_video_page,
		     si->orig_video_is_vga, si->orig_video_ega_bx, si->flags);
		if (si->orig_video_is_vga > 1)
			fail("video: orig_video_isVGA 0x%x is no known adapter type",
			     si->orig_video_is_vga);
		if (!si->orig_video_cols || !si->orig_video_lines)
			fail("video: text mode with %u columns and %u lines", si->orig_video_cols,
			     si->orig_video_lines);
		else if (si->orig_x >= si->orig_video_cols || si->orig_y >= si->orig_video_lines)
			fail("video: cursor %u,%u outside the %ux%u screen", si->orig_x, si->orig_y,
			     si->orig_video_cols, si->orig_video_lines);
		if (si->orig_video_is_vga == 1 &&
		    (si->orig_video_points < 8 || si->orig_video_points > 32))
			fail("video: VGA text font height %u", si->orig_video_points);
	}
	if (failures == before)
		pass("video: screen_info consistent");
}
