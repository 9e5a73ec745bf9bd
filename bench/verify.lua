-- wrk script: POST /user/verify/ with a wrong code and the sign-up token in $TOKEN.
local token = os.getenv("TOKEN")

request = function()
  return wrk.format("POST", "/user/verify/",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
    '{"code": "000000"}')
end
