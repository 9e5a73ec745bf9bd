-- wrk script: POST /user/login/ with the right password (one Argon2id hash per request).
request = function()
  return wrk.format("POST", "/user/login/", { ["Content-Type"] = "application/json" },
    '{"user_input": "benchuser", "password": "bench-pass-phrase-1"}')
end
