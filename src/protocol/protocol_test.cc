#include <gtest/gtest.h>

#include "protocol/events.h"
#include "protocol/sse.h"
#include "testing.h"

namespace aqueducts::protocol {
namespace {

TEST(SseTest, FormatAndParseRoundTripIncludingMultilineData) {
  std::string wire = FormatKeepalive() + FormatSse("log", "a\nb") + FormatSse("started", "{}");
  SseParser parser;
  std::vector<SseMessage> messages;
  // Feed byte by byte: frames split anywhere must still parse.
  for (char c : wire) {
    for (auto& m : parser.Feed(std::string_view(&c, 1))) {
      messages.push_back(m);
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].event, "log");
  EXPECT_EQ(messages[0].data, "a\nb");
  EXPECT_EQ(messages[1].event, "started");
}

TEST(EventsTest, ProgressEventRoundTrip) {
  ProgressEvent event;
  event.type = ProgressEvent::Type::kStageCompleted;
  event.name = "enriched";
  event.position = 1;
  event.sub_position = 0;
  event.rows = 237;
  event.duration_ms = 12;
  SseMessage m = EncodeEvent(event, "id-1");
  EXPECT_EQ(m.event, "stage_completed");
  AQ_ASSERT_OK_AND_ASSIGN(DecodedMessage d, Decode(m));
  EXPECT_EQ(d.kind, DecodedMessage::Kind::kEvent);
  EXPECT_EQ(d.execution_id, "id-1");
  EXPECT_EQ(d.event.type, ProgressEvent::Type::kStageCompleted);
  EXPECT_EQ(d.event.name, "enriched");
  EXPECT_EQ(d.event.rows, 237);
  EXPECT_EQ(d.event.duration_ms, 12);
  EXPECT_EQ(d.event.position, 1);
}

TEST(EventsTest, OutputChunksReassembleInAnyOrderWithoutSplittingUtf8) {
  StageOutput output{"s", OutputKind::kShowLimit, "", 7};
  for (int i = 0; i < 1000; ++i) {
    output.text += "é─x";
  }
  auto messages = EncodeOutput(output, "id", 100);
  ASSERT_GT(messages.size(), 10u);
  OutputAssembler assembler;
  std::optional<StageOutput> result;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    AQ_ASSERT_OK_AND_ASSIGN(DecodedMessage d, Decode(*it));
    ASSERT_EQ(d.kind, DecodedMessage::Kind::kOutputChunk);
    EXPECT_LE(d.chunk.data.size(), 100u);
    result = assembler.Add(d.chunk);
  }
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->text, output.text);
  EXPECT_EQ(result->kind, OutputKind::kShowLimit);
  EXPECT_EQ(result->rows_shown, 7) << "the preview's row count travels with its last chunk";
}

TEST(EventsTest, DecodeIsLenientOnTypesAndStrictOnJson) {
  EXPECT_FALSE(Decode({"started", "not json"}).ok());
  AQ_ASSERT_OK_AND_ASSIGN(DecodedMessage d, Decode({"queued", R"({"position":"x"})"}));
  EXPECT_EQ(d.kind, DecodedMessage::Kind::kQueued);
  EXPECT_EQ(d.position, 0);
  AQ_ASSERT_OK_AND_ASSIGN(DecodedMessage u, Decode({"future_thing", "{}"}));
  EXPECT_EQ(u.kind, DecodedMessage::Kind::kUnknown);
}

TEST(EventsTest, ProgressIsMonotonicAndCapped) {
  Aqueduct aqueduct;
  aqueduct.sources.push_back(FileSource{"a", {}, {}, {}});
  aqueduct.stages = {{Stage{"s", "SELECT 1"}}};
  ProgressCounter counter(aqueduct);
  using T = ProgressEvent::Type;
  std::vector<int> seen;
  for (T t : {T::kStarted, T::kSourceRegistered, T::kStageStarted, T::kStageCompleted,
              T::kStageCompleted, T::kStageCompleted, T::kCompleted}) {
    ProgressEvent e;
    e.type = t;
    if (auto p = counter.OnEvent(e)) {
      seen.push_back(*p);
    }
  }
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GT(seen[i], seen[i - 1]);
  }
  EXPECT_EQ(seen.back(), 100);
}

}  // namespace
}  // namespace aqueducts::protocol
