-- wrk script: POST /user/signup/ with a new e-mail address each time (unique per thread too).
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

local counter = 0
local run = tostring(os.time())

request = function()
  counter = counter + 1
  local body = string.format('{"email_phone_number": "bench-%s-%s-%d@example.com"}', run, id, counter)
  return wrk.format("POST", "/user/signup/", { ["Content-Type"] = "application/json" }, body)
end
