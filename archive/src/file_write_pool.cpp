#include "file_write_pool.hpp"

#include <unistd.h>

#include <cerrno>

namespace cachestep::archive::detail {

result<void> finish_file(int fd, mode_t mode, bool fix_mode, const timespec& mtime, std::string_view entry)
{
    if (fix_mode && ::fchmod(fd, mode) != 0) return io_failure(entry, "cannot set the file's mode", errno);
    const timespec times[2] = {mtime, mtime};
    if (::futimens(fd, times) != 0) return io_failure(entry, "cannot set the file's mtime", errno);
    return {};
}

file_write_pool::file_write_pool(unsigned threads, mode_t umask_bits) : umask_bits_(umask_bits)
{
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

file_write_pool::~file_write_pool()
{
    stop();
    for (auto& t : workers_) t.join();
}

void file_write_pool::stop()
{
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    changed_.notify_all();
}

void file_write_pool::fail(failure f)
{
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::move(f);
    stopping_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    changed_.notify_all();
}

bool file_write_pool::submit(file_job job)
{
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
        return stopping_ || queue_.empty() ||
               (queue_.size() < max_queued_files && queued_bytes_ + job.data.size() <= max_queued_bytes);
    });
    if (stopping_) return false;
    queued_bytes_ += job.data.size();
    queue_.push_back(std::move(job));
    changed_.notify_all();
    return true;
}

std::optional<failure> file_write_pool::wait_idle()
{
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || (queue_.empty() && busy_ == 0); });
    changed_.wait(lock, [&] { return busy_ == 0; });
    return failure_;
}

std::optional<failure> file_write_pool::first_failure()
{
    std::lock_guard lock(mutex_);
    return failure_;
}

void file_write_pool::work()
{
    for (;;) {
        file_job job;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            queued_bytes_ -= job.data.size();
            ++busy_;
            changed_.notify_all();
        }
        auto r = [&]() -> result<void> {
            auto fd = safe_tree::create_file(*job.dir, job.leaf, job.mode, job.entry);
            if (!fd) return fd.error();
            std::size_t done = 0;
            result<void> written;
            while (done < job.data.size()) {
                const ssize_t n = ::write(*fd, job.data.data() + done, job.data.size() - done);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    written = io_failure(job.entry, "cannot write the file", errno);
                    break;
                }
                done += static_cast<std::size_t>(n);
            }
            if (written) written = finish_file(*fd, job.mode, (job.mode & umask_bits_) != 0, job.mtime, job.entry);
            ::close(*fd);
            if (!written) ::unlinkat(job.dir->fd(), job.leaf.c_str(), 0);  // never leave a partial file
            else bytes_written_ += done;
            return written;
        }();
        {
            std::lock_guard lock(mutex_);
            --busy_;
            changed_.notify_all();
        }
        if (!r) fail(r.error());
    }
}

}  // namespace cachestep::archive::detail
