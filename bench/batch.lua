-- wrk script: POST an NDJSON batch of BATCH_SIZE pin records (distinct index/unique_id per line)
-- to /batch/pin. The record is the baseline's own record (shared/baselines/post.lua).
local n = tonumber(os.getenv("BATCH_SIZE") or "1000")
local lines = {}
for i = 1, n do
  lines[i] = string.format('{"index": %d, "unique_id": "fbe53c66-3442-4773-b19e-%012x", "title": "No Title Data Available", "description": "No description available Story format", "poster_name": "User Info Error", "follower_count": "User Info Error", "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "is_image_or_video": "multi-video(story page format)", "image_src": "Image src error.", "downloaded": 0, "save_location": "Local save in /data/mens-fashion", "category": "mens-fashion"}', i, i)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.body = table.concat(lines, "\n") .. "\n"
