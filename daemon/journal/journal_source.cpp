#include "journal/journal_source.hpp"

#include "journal/journal_line.hpp"

#include <boost/asio/post.hpp>
#include <exception>
#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

// Entries handed on before yielding to the io_context: a long backlog must
// not hold timers and signals up.
constexpr std::size_t entries_per_turn = 4096;

} // namespace

std::string journal_source_name(const std::string& match_text) {
    return "journal:" + match_text;
}

JournalSource::JournalSource(boost::asio::io_context& io, std::unique_ptr<JournalReader> reader,
                             std::size_t log, std::string name, const LogPosition& resume,
                             TailSink& sink)
    : io_(io)
    , reader_(std::move(reader))
    , log_(log)
    , sink_(sink)
    , descriptor_(io)
    , deadline_(io) {
    position_.path = std::move(name);
    position_.cursor = resume.cursor;
}

JournalSource::~JournalSource() {
    // Asio's cancel and release report failures by exception; one here (the
    // descriptor or timer already gone with the loop) leaves nothing to undo,
    // and a destructor must not throw.
    try {
        stop();
    } catch (const std::exception&) {
        stopped_ = true;
    }
}

void JournalSource::start() {
    if (started_ || stopped_)
        return;
    started_ = true;
    const std::string& cursor = position_.cursor;
    if (cursor.empty())
        reader_->seek_head();
    else if (reader_->seek_cursor(cursor))
        cursor_unchecked_ = true; // the first entry read is the cursor's, or the one after it
    else
        spdlog::warn("{}: the committed cursor {} is not one the journal can read; reading from "
                     "its oldest entry",
                     position_.path, cursor);
    // The descriptor stays the reader's: it is released, never closed, here.
    descriptor_.assign(reader_->wait_descriptor());
    post_read();
}

void JournalSource::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    if (descriptor_.is_open())
        descriptor_.release();
    deadline_.cancel();
}

std::vector<LogPosition> JournalSource::positions() const {
    return {position_};
}

void JournalSource::pause() {
    paused_ = true;
}

void JournalSource::resume() {
    if (!paused_)
        return;
    paused_ = false;
    post_read();
}

void JournalSource::post_read() {
    if (read_posted_ || stopped_ || !started_)
        return;
    read_posted_ = true;
    boost::asio::post(io_, lifetime_.guarded([this] {
        read_posted_ = false;
        read_on();
    }));
}

void JournalSource::read_on() {
    if (stopped_ || paused_)
        return;
    for (std::size_t handed = 0; handed < entries_per_turn; ++handed) {
        if (reader_->next() != JournalReader::Step::entry) {
            // The end, or a journal that cannot be read now: either way the
            // next wake-up reads on (and a resume still unchecked is checked
            // then).
            if (caught_up_due_) {
                caught_up_due_ = false;
                sink_.on_caught_up();
            }
            wait_for_entries();
            return;
        }
        reader_->entry(entry_);
        const bool reject_copy = reject_copies_.is_reject_copy(entry_);
        if (cursor_unchecked_) {
            cursor_unchecked_ = false;
            // Handed on before the restart; read again all the same, so that
            // a reject copy right after it is known for one.
            if (reader_->at_cursor(position_.cursor))
                continue;
            spdlog::warn("{}: the committed cursor's entry is gone from the journal (rotated or "
                         "vacuumed); resuming at the oldest entry after it",
                         position_.path);
        }
        // Before on_line: a commit made from inside it holds this line.
        position_.cursor = reader_->cursor();
        if (reject_copy)
            continue;
        const bool cut = format_journal_line(entry_, line_);
        caught_up_due_ = true;
        sink_.on_line(log_, line_, cut);
        if (stopped_ || paused_)
            return;
    }
    post_read();
}

void JournalSource::wait_for_entries() {
    if (waiting_ || stopped_)
        return;
    waiting_ = true;
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           lifetime_.guarded([this](const boost::system::error_code& error) {
                               if (error != boost::asio::error::operation_aborted)
                                   woken();
                           }));
    if (const auto deadline = reader_->deadline()) {
        deadline_.expires_at(*deadline);
        deadline_.async_wait(lifetime_.guarded([this](const boost::system::error_code& error) {
            if (!error)
                woken();
        }));
    }
}

void JournalSource::woken() {
    if (!waiting_ || stopped_)
        return;
    waiting_ = false;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    deadline_.cancel();
    reader_->process();
    read_on();
}

} // namespace exim_ban
