/* Software offloads: the checksum and segmentation work a virtio-net or
 * e1000 driver leaves to its device (struct net_hdr), done on the host for a
 * switch that needs complete frames (NAT, private). Frames are flat buffers. */
#ifndef OSIO_NET_OFFLOAD_H
#define OSIO_NET_OFFLOAD_H

#include "devices/net/net.h"

#include <stddef.h>
#include <stdint.h>

/* The Internet checksum's running sum (RFC 1071) over len bytes, added to
 * sum; net_csum_fold gives the final 16-bit checksum (complemented). */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);

/* NEEDS_CSUM: sums frame[csum_start .. len) and stores the result at
 * csum_start + csum_offset (the driver put the pseudo-header's sum there).
 * -EINVAL if the offsets lie outside the frame. */
int net_csum_finish(uint8_t *frame, size_t len, const struct net_hdr *hdr);

/* Splits a GSO frame (TCPv4, TCPv6: into gso_size-byte segments with IP
 * lengths, ids, TCP sequence numbers and flags (FIN/PSH only on the last,
 * CWR only on the first) fixed and every checksum computed; UDP: into IPv4
 * fragments (UFO)) and calls emit for each complete frame, in order, with a
 * scratch buffer valid for the call. Also finishes NEEDS_CSUM of a non-GSO
 * frame (one emit). Stops at the first emit error and returns it. -EINVAL
 * for a malformed frame: headers shorter than hdr_len says or than the
 * protocol needs, a non-IP frame with GSO, gso_size 0, or segments that
 * would exceed NET_FRAME_MAX. */
int net_offload_frame(uint8_t *frame, size_t len, const struct net_hdr *hdr,
		      int (*emit)(void *ctx, const uint8_t *seg, size_t seglen), void *ctx);

#endif
