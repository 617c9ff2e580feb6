fetch("/test", {method: "POST", headers: {"Content-Type": "application/json"}, body: "[[5.1,3.5,1.4,0.2]]"});
