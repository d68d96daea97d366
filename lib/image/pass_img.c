/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sdump.h"
#define LOG_PREFIX "image: "
#include "ctx.h"
#include "image.h"
#include "img_files.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pass_img.h"
#include "pagemap_img.h"
#include "stats.pb-c.h"
#include "util.h"

const char *sd_pass_kind_name(enum pass_kind kind)
{
	return kind == PASS_KIND_DUMP ? "dump" : "pre-dump";
}

int sd_pass_id_new(char out[33])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -errno;
	for (int i = 0; i < 16; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	(void)snprintf(dst, size, "%s", src ? src : "");
}

int sd_passimg_write_inventory(struct sdump_ctx *ctx, struct img_dir *dir, const struct pass_meta *m)
{
	Inventory inv = INVENTORY__INIT;

	inv.format_version = m->format_version;
	inv.pass_id = (char *)m->pass_id;
	if (m->parent_pass_id[0]) {
		inv.parent_pass_id = (char *)m->parent_pass_id;
		inv.parent_path = (char *)m->parent_path;
	}
	inv.kind = m->kind == PASS_KIND_DUMP ? PASS_KIND__PASS_DUMP : PASS_KIND__PASS_PRE_DUMP;
	inv.pid = m->pid;
	inv.start_time = m->start_time;
	inv.tracker = (char *)m->tracker;
	inv.page_size = m->page_size;
	inv.kernel = (char *)m->kernel;
	inv.time_start_ns = m->time_start_ns;
	inv.time_end_ns = m->time_end_ns;
	inv.comm = (char *)m->comm;
	inv.has_boot_id_hi = inv.has_boot_id_lo = true;
	inv.boot_id_hi = m->boot_id_hi;
	inv.boot_id_lo = m->boot_id_lo;
	return sd_imgfile_write_one(ctx, dir, IMGF_INVENTORY, 0, &inv.base, NULL);
}

static bool is_hex_id(const char *s)
{
	if (strlen(s) != 32)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int sd_passimg_read_inventory(struct sdump_ctx *ctx, struct img_dir *dir, struct pass_meta *ret_m)
{
	struct pass_meta m = { 0 };
	ProtobufCMessage *msg;
	Inventory *inv;
	int r;

	r = sd_imgfile_read_one(ctx, dir, IMGF_INVENTORY, 0, &msg);
	if (r < 0)
		return r;
	inv = (Inventory *)msg;
	r = 0;
	if (inv->format_version < SDUMP_IMAGE_VERSION_MIN || inv->format_version > SDUMP_IMAGE_VERSION)
		r = sd_errx(ctx, -EPROTONOSUPPORT, "image '%s' has format version %u, this sdump reads %u to %u",
			    dir->path, inv->format_version, SDUMP_IMAGE_VERSION_MIN, SDUMP_IMAGE_VERSION);
	else if (!is_hex_id(inv->pass_id) || (inv->parent_pass_id && !is_hex_id(inv->parent_pass_id)) ||
		 inv->pid <= 0 || inv->page_size < 4096 || inv->page_size > (1u << 21) ||
		 (inv->page_size & (inv->page_size - 1)) ||
		 (inv->kind != PASS_KIND__PASS_DUMP && inv->kind != PASS_KIND__PASS_PRE_DUMP))
		r = sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: bad values",
			    dir->path, sd_imgfile_name(IMGF_INVENTORY));
	if (r == 0) {
		m.format_version = inv->format_version;
		copy_str(m.pass_id, sizeof(m.pass_id), inv->pass_id);
		copy_str(m.parent_pass_id, sizeof(m.parent_pass_id), inv->parent_pass_id);
		copy_str(m.parent_path, sizeof(m.parent_path), inv->parent_path);
		m.kind = inv->kind == PASS_KIND__PASS_DUMP ? PASS_KIND_DUMP : PASS_KIND_PRE_DUMP;
		m.pid = inv->pid;
		m.start_time = inv->start_time;
		copy_str(m.tracker, sizeof(m.tracker), inv->tracker);
		m.page_size = inv->page_size;
		copy_str(m.kernel, sizeof(m.kernel), inv->kernel);
		m.time_start_ns = inv->time_start_ns;
		m.time_end_ns = inv->time_end_ns;
		copy_str(m.comm, sizeof(m.comm), inv->comm);
		m.boot_id_hi = inv->boot_id_hi;
		m.boot_id_lo = inv->boot_id_lo;
		*ret_m = m;
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int sd_passimg_write_mm(struct sdump_ctx *ctx, struct img_dir *dir, const struct vma_list *vmas,
		     uint64_t *ret_size)
{
	Mm mm = MM__INIT;
	Vma *v = calloc(vmas->n ? vmas->n : 1, sizeof(*v));
	Vma **vp = calloc(vmas->n ? vmas->n : 1, sizeof(*vp));
	SysvShm *sysv = calloc(vmas->n ? vmas->n : 1, sizeof(*sysv));
	struct img_rec_writer w = { 0 };
	int r;

	if (!v || !vp || !sysv) {
		r = sd_err(ctx, -ENOMEM, "cannot encode %s", sd_imgfile_name(IMGF_MM));
		goto out;
	}
	if (vmas->n > MM_MAX_VMAS) {
		r = sd_errx(ctx, -EOPNOTSUPP, "cannot dump a process of %zu VMAs: sdump takes at most %u",
			    vmas->n, MM_MAX_VMAS);
		goto out;
	}
	if (vmas->n && vmas->v[vmas->n - 1].end > PM_ADDR_LIMIT) {
		r = sd_errx(ctx, -EOPNOTSUPP,
			    "cannot dump memory at 0x%" PRIx64 ": above 0x%llx (5-level paging), not supported",
			    vmas->v[vmas->n - 1].start, PM_ADDR_LIMIT);
		goto out;
	}
	for (size_t i = 0; i < vmas->n; i++) {
		const struct vma *s = &vmas->v[i];

		vma__init(&v[i]);
		v[i].start = s->start;
		v[i].end = s->end;
		v[i].pgoff = s->pgoff;
		v[i].prot = s->prot;
		v[i].shared = s->shared;
		v[i].kind = (VmaKind)s->kind;
		v[i].path = s->path;
		v[i].has_dev = v[i].has_ino = s->path != NULL;
		v[i].dev = (uint64_t)s->dev_major << 32 | s->dev_minor;
		v[i].ino = s->ino;
		v[i].has_file_size = s->has_file_size;
		v[i].file_size = s->file_size;
		v[i].has_file_flags = s->has_file_flags;
		v[i].file_flags = (uint32_t)s->file_flags;
		v[i].has_deleted = v[i].deleted = s->deleted;
		v[i].has_ghost = s->ghost != 0;
		v[i].ghost = s->ghost;
		v[i].has_flock = s->flock != 0;
		v[i].flock = s->flock;
		if (s->has_sysv) {
			sysv_shm__init(&sysv[i]);
			sysv[i].key = s->sysv.key;
			sysv[i].shmid = s->sysv.shmid;
			sysv[i].size = s->sysv.size;
			sysv[i].mode = s->sysv.mode;
			sysv[i].uid = s->sysv.uid;
			sysv[i].gid = s->sysv.gid;
			v[i].sysv = &sysv[i];
		}
		v[i].has_vmflags = s->has_vmflags;
		v[i].vmflags = s->vmflags & VMF_SAVED_MASK;
		/* only where it is not what the open mode gives: a memfd sealed before it was mapped */
		v[i].has_may_write = s->has_vmflags && s->kind == VK_FILE_SHARED && !s->may_write;
		v[i].may_write = false;
		v[i].has_shared_pid = s->shared_pid != 0;
		v[i].shared_pid = s->shared_pid;
		v[i].n_guards = 2 * s->nguards;
		v[i].guards = s->guards;
		vp[i] = &v[i];
	}
	mm.n_vmas = vmas->n;
	mm.vmas = vp;
	r = sd_img_rec_add(&w, &mm.base);
	if (r < 0)
		r = sd_err(ctx, r, "cannot encode %s", sd_imgfile_name(IMGF_MM));
	else
		r = sd_imgfile_rec_commit(ctx, dir, IMGF_MM, &w, ret_size);
out:
	sd_img_rec_writer_release(&w);
	free(v);
	free(vp);
	free(sysv);
	return r;
}

/* Guard ranges: pairs, page aligned, each non-empty, in order, within the VMA. */
static bool guards_valid(const Vma *s, uint32_t page_size)
{
	uint64_t prev = s->start;

	if (s->n_guards % 2)
		return false;
	for (size_t i = 0; i < s->n_guards; i += 2) {
		uint64_t a = s->guards[i], b = s->guards[i + 1];

		if (a % page_size || b % page_size || a < prev || a >= b || b > s->end)
			return false;
		prev = b;
	}
	return true;
}

int sd_passimg_read_mm(struct sdump_ctx *ctx, struct img_dir *dir, uint32_t page_size,
		    struct vma_list *ret_vmas)
{
	const char *name = sd_imgfile_name(IMGF_MM);
	struct vma_list l = { 0 };
	ProtobufCMessage *msg;
	Mm *mm;
	int r;

	r = sd_imgfile_read_one(ctx, dir, IMGF_MM, 0, &msg);
	if (r < 0)
		return r;
	mm = (Mm *)msg;
	if (mm->n_vmas > MM_MAX_VMAS) {
		r = sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: %zu VMAs, more than the %u sdump takes",
			    dir->path, name, mm->n_vmas, MM_MAX_VMAS);
		goto out;
	}
	l.v = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(*l.v));
	if (!l.v) {
		r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
		goto out;
	}
	l.cap = mm->n_vmas ? mm->n_vmas : 1;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const Vma *s = mm->vmas[i];
		struct vma *d = &l.v[i];

		const char *why = NULL;

		if (s->start >= s->end)
			why = "its start is not below its end";
		else if (s->end > PM_ADDR_LIMIT)
			why = "it lies beyond the user address space";
		else if (s->start % page_size || s->end % page_size || s->pgoff % page_size)
			why = "it is not page aligned";
		else if ((int)s->kind < (int)VK_ANON || (int)s->kind > (int)VK_VVAR || (s->prot & ~7u))
			why = "unknown kind or protection";
		else if (i > 0 && s->start < l.v[i - 1].end)
			why = "it overlaps the one before";
		else if (s->pgoff > UINT64_MAX - (s->end - s->start))
			why = "its file offset overflows";
		else if ((s->has_file_flags || s->deleted) && s->kind != VMA_KIND__VMA_FILE &&
			 s->kind != VMA_KIND__VMA_FILE_SHARED)
			why = "file fields on memory that is no file's";
		else if (s->has_file_flags && s->file_flags != O_RDONLY && s->file_flags != O_RDWR)
			why = "its file was open neither O_RDONLY nor O_RDWR";
		else if (s->has_ghost && (s->ghost == 0 || (!s->deleted && s->kind != VMA_KIND__VMA_SHMEM)))
			why = "saved contents of a file that was not deleted";
		else if (s->has_shared_pid && (s->shared_pid <= 0 || s->kind != VMA_KIND__VMA_SHMEM || !s->path))
			why = "the memory of another member that is no shared anonymous memory";
		else if (s->has_vmflags && (s->vmflags & ~VMF_SAVED_MASK))
			why = "unknown VmFlags";
		else if (!guards_valid(s, page_size))
			why = "its guard pages are not sorted page-aligned ranges within it";
		if (why) {
			r = sd_errx(ctx, -EBADMSG,
				    "image file '%s/%s' is corrupt: VMA %zu (0x%" PRIx64 "-0x%" PRIx64 "): %s",
				    dir->path, name, i, s->start, s->end, why);
			goto out;
		}
		/* counted at once: a failure below releases what it holds */
		l.n++;
		d->start = s->start;
		d->end = s->end;
		d->pgoff = s->pgoff;
		d->prot = s->prot;
		d->shared = s->shared;
		d->kind = (enum vma_kind)s->kind;
		d->dev_major = (uint32_t)(s->dev >> 32);
		d->dev_minor = (uint32_t)s->dev;
		d->ino = s->ino;
		d->has_file_size = s->has_file_size;
		d->file_size = s->file_size;
		d->has_file_flags = s->has_file_flags;
		d->file_flags = (int)s->file_flags;
		d->deleted = s->has_deleted && s->deleted;
		d->ghost = s->has_ghost ? s->ghost : 0;
		d->flock = s->has_flock && s->flock <= 2 ? (uint8_t)s->flock : 0;
		if (s->sysv && s->kind == VMA_KIND__VMA_SHMEM) {
			d->has_sysv = true;
			d->sysv = (struct vma_sysv){ s->sysv->key, s->sysv->shmid, s->sysv->size, s->sysv->mode,
						     s->sysv->uid, s->sysv->gid };
		}
		d->has_vmflags = s->has_vmflags;
		d->vmflags = s->vmflags;
		d->may_write = !(s->has_may_write && !s->may_write);
		d->shared_pid = s->has_shared_pid ? s->shared_pid : 0;
		if (s->n_guards) {
			d->guards = malloc(s->n_guards * sizeof(*d->guards));
			if (!d->guards) {
				r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
				goto out;
			}
			memcpy(d->guards, s->guards, s->n_guards * sizeof(*d->guards));
			d->nguards = s->n_guards / 2;
		}
		if (s->path) {
			d->path = strdup(s->path);
			if (!d->path) {
				r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
				goto out;
			}
		}
	}
	*ret_vmas = l;
	l = (struct vma_list){ 0 };
out:
	sd_vma_list_release(&l);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int sd_passimg_write_stats(struct sdump_ctx *ctx, struct img_dir *dir, const struct sdump_stats *st)
{
	Stats s = STATS__INIT;

	s.freeze_us = st->freeze_us;
	s.seize_us = st->seize_us;
	s.collect_us = st->collect_us;
	s.copy_us = st->copy_us;
	s.write_us = st->write_us;
	s.total_us = st->total_us;
	s.vmas = st->vmas;
	s.pages_scanned = st->pages_scanned;
	s.pages_written = st->pages_written;
	s.pages_in_parent = st->pages_in_parent;
	s.pages_zero = st->pages_zero;
	s.pages_lost = st->pages_lost;
	s.bytes_written = st->bytes_written;
	if (st->live) {
		s.has_live = s.live = true;
		s.has_live_faults = s.has_refreeze_us = true;
		s.live_faults = st->live_faults;
		s.refreeze_us = st->refreeze_us;
		s.has_live_pages_frozen = true;
		s.live_pages_frozen = st->live_pages_frozen;
	}
	s.has_held_bytes = st->held_bytes != 0;
	s.held_bytes = st->held_bytes;
	s.has_cpu_us = true;
	s.cpu_us = st->cpu_us;
	s.has_compress_level = s.has_compress_level_min = s.has_compress_level_max = true;
	s.compress_level = st->compress_level;
	s.compress_level_min = st->compress_level_min;
	s.compress_level_max = st->compress_level_max;
	s.has_compress_cpu_us = true;
	s.compress_cpu_us = st->compress_cpu_us;
	s.has_sink_rate = st->sink_rate != 0;
	s.sink_rate = st->sink_rate;
	return sd_imgfile_write_one(ctx, dir, IMGF_STATS, 0, &s.base, NULL);
}

int sd_passimg_read_stats(struct sdump_ctx *ctx, struct img_dir *dir, struct sdump_stats *ret_st)
{
	ProtobufCMessage *msg;
	Stats *s;
	int r;

	r = sd_imgfile_read_one(ctx, dir, IMGF_STATS, 0, &msg);
	if (r < 0)
		return r;
	s = (Stats *)msg;
	*ret_st = (struct sdump_stats){
		.freeze_us = s->freeze_us,
		.seize_us = s->seize_us,
		.collect_us = s->collect_us,
		.copy_us = s->copy_us,
		.write_us = s->write_us,
		.total_us = s->total_us,
		.vmas = s->vmas,
		.pages_scanned = s->pages_scanned,
		.pages_written = s->pages_written,
		.pages_in_parent = s->pages_in_parent,
		.pages_zero = s->pages_zero,
		.pages_lost = s->pages_lost,
		.bytes_written = s->bytes_written,
		.live = s->has_live && s->live,
		.live_faults = s->live_faults,
		.refreeze_us = s->refreeze_us,
		.live_pages_frozen = s->live_pages_frozen,
		.held_bytes = s->held_bytes,
		.cpu_us = s->cpu_us,
		.compress_level = s->compress_level,
		.compress_level_min = s->compress_level_min,
		.compress_level_max = s->compress_level_max,
		.compress_cpu_us = s->compress_cpu_us,
		.sink_rate = s->sink_rate,
	};
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}
