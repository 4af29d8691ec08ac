"""English templates and slot values (written for this project)."""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "add_to_shopping_list": (
        "Add {item} to my {list}.",
        "Put {item} on the {list}.",
        "Put {item} and {item2} on my {list}.",
        "Add {item} and {item2} to the {list}.",
        "Can you add {item} to my {list}?",
        "I need {item}, please put that on my {list}.",
    ),
    "book_restaurant": (
        "Book a table for {party} at a good {cuisine} restaurant {date}.",
        "Reserve a table for {party} in {city} {date} at {time}.",
        "I need a dinner reservation for {party} at {time}.",
        "Find me {cuisine} food in {city} and book a table for {party}.",
        "Can you book a table for {party} at {time} {date}?",
        "Make a reservation at the best {cuisine} place in {city}.",
    ),
    "book_taxi": (
        "Book a taxi to {place}.",
        "Get me a cab to {place} at {time}.",
        "I need a ride to {place} {date} at {time}.",
        "Order a taxi for {time} to go to {place}.",
        "Can you call a taxi to take me to {place}?",
        "Schedule a car to {place} for {time} {date}.",
    ),
    "call_contact": (
        "Call {contact}.",
        "Call {contact}'s {phone}.",
        "Dial {contact} on speaker.",
        "Please phone {contact}.",
        "Can you call {contact}'s {phone} for me?",
        "I want to call {contact}.",
        "Ring {contact}'s {phone}.",
    ),
    "check_calendar": (
        "What's on my calendar {date}?",
        "Do I have anything scheduled {date}?",
        "Am I free at {time} {date}?",
        "When is {event}?",
        "What time is {event} {date}?",
        "What does my schedule look like {date}?",
    ),
    "find_recipe": (
        "Find me a recipe for {dish}.",
        "How do I make {dish}?",
        "Show me an easy recipe for {dish}.",
        "I want to cook {dish} for {party} people.",
        "What do I need to make {dish}?",
        "Give me a quick recipe for {dish} that serves {party}.",
    ),
    "get_definition": (
        "What does {word} mean?",
        "Define {word}.",
        "What's the definition of {word}?",
        "What is the meaning of the word {word}?",
        "Look up {word} in the dictionary.",
        "Can you explain what {word} means?",
    ),
    "get_news_update": (
        "What's the latest {topic} news?",
        "Give me the {topic} news from {city}.",
        "Read me today's {topic} headlines.",
        "What are the top {topic} stories in {city} today?",
        "Play the {topic} news briefing.",
        "Any {topic} news from {city} this morning?",
    ),
    "get_sports_score": (
        "Did {team} win {past}?",
        "What was the final score for {team} {past}?",
        "Who won the game between {team} and {team2}?",
        "Is {team} winning right now?",
        "Give me the latest score for {team} versus {team2}.",
        "When does {team} play next?",
    ),
    "get_traffic": (
        "How's the traffic to {place}?",
        "How long will it take me to drive to {place}?",
        "Is there traffic on the way to {place} right now?",
        "What's my commute to {place} like at {time}?",
        "Are the roads busy near {place}?",
        "How bad is the traffic to {place} at {time}?",
    ),
    "get_weather": (
        "What's the weather like in {city} {day}?",
        "Will it rain in {city} {day}?",
        "How hot is it going to be in {city} {day}?",
        "Tell me the forecast for {city}.",
        "Do I need an umbrella in {city} {day}?",
        "Is it going to snow in {city} {day}?",
        "What's the temperature in {city} right now?",
    ),
    "order_food": (
        "Order {dish} for delivery.",
        "I'd like to order {dish} for {time}.",
        "Get me {dish} delivered to the house.",
        "Can you order {dish} and {dish2}?",
        "Order {dish} from my favorite place.",
        "Have {dish} delivered at {time}.",
    ),
    "play_music": (
        "Play some {artist}.",
        "Play {artist} in the {room}.",
        "Put on some {genre} in the {room}.",
        "I want to listen to {genre}.",
        "Shuffle songs by {artist}.",
        "Play the latest album by {artist} in the {room}.",
        "Can you play some relaxing {genre}?",
    ),
    "play_podcast": (
        "Play a podcast about {ptopic}.",
        "Play a {ptopic} podcast in the {room}.",
        "Put on the latest episode of my {ptopic} podcast.",
        "Find me a good podcast about {ptopic}.",
        "Resume my {ptopic} podcast in the {room}.",
        "I'd like to listen to a podcast on {ptopic}.",
    ),
    "play_radio": (
        "Play {freq} FM.",
        "Tune in to {freq} FM in the {room}.",
        "Turn on the radio to {freq}.",
        "Play a {genre} station.",
        "Put on a {genre} radio station in the {room}.",
        "Switch the radio to {freq} FM.",
    ),
    "send_message": (
        "Send a message to {contact} saying {message}.",
        "Text {contact}: {message}.",
        "Tell {contact} {message}.",
        "Send {contact} a text that says {message}.",
        "Message {contact} and say {message}.",
        "Can you text {contact} saying {message}?",
    ),
    "set_alarm": (
        "Set an alarm for {time} {date}.",
        "Wake me up at {time} {date}.",
        "Create an alarm for {time}.",
        "I need an alarm at {time} {date}.",
        "Please set my alarm for {time} {date}.",
        "Alarm at {time} {date}, please.",
    ),
    "set_reminder": (
        "Remind me to {task} {date} at {time}.",
        "Set a reminder to {task} at {time}.",
        "Remind me {date} to {task}.",
        "Don't let me forget to {task} {date}.",
        "Create a reminder for {time} {date} to {task}.",
        "Can you remind me to {task} at {time} {date}?",
    ),
    "set_thermostat": (
        "Set the thermostat to {degrees} degrees.",
        "Set the {room} to {degrees} degrees.",
        "Make it {degrees} degrees in the {room}.",
        "Turn the heat up to {degrees} degrees at {time}.",
        "Change the temperature in the {room} to {degrees} degrees.",
        "Set the thermostat to {degrees} degrees at {time}.",
    ),
    "set_timer": (
        "Set a timer for {duration}.",
        "Set a timer for {duration} for the {label}.",
        "Timer for {duration}, please.",
        "Start a timer for the {label}: {duration}.",
        "Count down {duration}.",
        "Can you time {duration} for the {label}?",
    ),
    "translate_phrase": (
        'How do you say "{phrase}" in {lang}?',
        'Translate "{phrase}" into {lang}.',
        'What is "{phrase}" in {lang}?',
        'Can you translate "{phrase}" to {lang} for me?',
        'How would I say "{phrase}" in {lang}?',
        'Say "{phrase}" in {lang}.',
    ),
    "turn_on_lights": (
        "Turn on the lights in the {room}.",
        "Switch on the {room} lights.",
        "Set the {room} lights to {percent} percent.",
        "Turn the {room} lights {color}.",
        "Dim the {room} lights to {percent} percent.",
        "Make the lights in the {room} {color}.",
        "Turn on the {room} lamp at {percent} percent brightness.",
    ),
}

SLOTS: dict[str, str] = {
    "artist": "Adele|Coldplay|Taylor Swift|Ed Sheeran|Beyoncé|the Beatles|Queen|Bob Marley|Norah Jones|"
    "Bruno Mars|Miles Davis|Billie Eilish|Elton John|Dua Lipa|Stevie Wonder",
    "city": "Paris|London|New York|Tokyo|Sydney|Berlin|Toronto|Chicago|Mumbai|Cairo|Madrid|Rome|Seattle|"
    "Boston|Dublin|Lisbon|Mexico City|Cape Town|Singapore|Vancouver",
    "color": "red|blue|green|warm white|purple|orange|yellow|pink",
    "contact": "Mom|Dad|Sarah|John|Grandma|Emily|Michael|Priya|David|Anna|Carlos|Olivia|my brother|"
    "my sister|Aunt Linda|Dr. Patel|Jessica|Tom|Mei|Ahmed",
    "cuisine": "Italian|Mexican|Japanese|Indian|Thai|French|Chinese|Lebanese|Greek|Spanish|Korean|Ethiopian",
    "date": "today|tomorrow|on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|on Saturday|on Sunday|"
    "the day after tomorrow",
    "day": "today|tomorrow|tonight|this weekend|this afternoon|on Monday|on Tuesday|on Wednesday|"
    "on Thursday|on Friday|on Saturday|on Sunday|next week|tomorrow morning",
    "dish": "lasagna|chicken curry|pad thai|tacos|sushi|margherita pizza|beef stew|paella|pancakes|ramen|"
    "falafel|butter chicken|mushroom risotto|fried rice|banana bread|tomato soup|fish and chips|biryani|"
    "guacamole|apple pie",
    "duration": "five minutes|ten minutes|fifteen minutes|twenty minutes|half an hour|forty-five minutes|"
    "an hour|ninety seconds|three minutes|two hours|twelve minutes|seven minutes",
    "event": "my dentist appointment|the team meeting|my yoga class|the parent-teacher conference|my flight|"
    "the doctor's appointment|lunch with Sarah|the project review|my haircut|the book club|"
    "dinner with my parents|the job interview",
    "genre": "jazz|classical music|rock|hip hop|country music|reggae|blues|pop|lo-fi beats|salsa",
    "item": "milk|eggs|bread|butter|apples|bananas|coffee|rice|olive oil|tomatoes|cheese|chicken|pasta|"
    "orange juice|yogurt|onions|garlic|dish soap|toilet paper|honey|carrots|spinach|flour|sugar",
    "label": "pasta|eggs|rice|pizza|laundry|cookies|tea|bread|nap|cake",
    "lang": "Spanish|French|German|Japanese|Hindi|Arabic|Italian|Portuguese|Tamil|Telugu|Marathi",
    "list": "shopping list|grocery list|party list|weekly list",
    "message": "I'm running late|I'll be home in ten minutes|dinner is ready|can you pick up some milk|"
    "happy birthday|see you at the station|the meeting was moved to three|call me when you can|"
    "I just landed|don't forget the keys|good luck today|thanks for everything",
    "party": "two|three|four|five|six|seven|eight|ten|twelve",
    "past": "yesterday|last night|on Saturday|on Sunday|last weekend|on Wednesday",
    "phone": "mobile|work phone|home phone|cell",
    "phrase": "good morning|thank you very much|where is the train station|how much does this cost|"
    "I would like a coffee|nice to meet you|see you tomorrow|I don't understand|can you help me|"
    "the bill, please|where is the bathroom|happy birthday",
    "place": "the airport|the train station|downtown|work|the hospital|the mall|the stadium|the beach|"
    "the university|the city center|the bus station|the museum|the hotel",
    "ptopic": "history|science|cooking|true crime|technology|comedy|business|space|travel|philosophy|sports|"
    "psychology",
    "room": "kitchen|living room|bedroom|bathroom|office|hallway|dining room|garage|kids' room|basement",
    "task": "call the dentist|take out the trash|water the plants|pick up the kids|pay the electricity bill|"
    "buy a birthday present|take my medicine|feed the cat|book the flight|send the report|walk the dog|"
    "charge my phone|renew my passport|call Grandma",
    "team": "Arsenal|Liverpool|Chelsea|Manchester United|Real Madrid|Barcelona|Juventus|Bayern Munich|"
    "Boston|Chicago|Toronto|Los Angeles|Celtic|Tottenham",
    "time": "6 am|6:30 am|7 am|7:15 am|8 am|9:45 am|noon|1 pm|2:30 pm|4 pm|5:45 pm|7 pm|7:30 pm|8 pm|9 pm|"
    "10:15 pm",
    "topic": "sports|politics|business|technology|science|health|entertainment|weather|world|local|"
    "financial|climate",
    "word": "serendipity|ephemeral|ubiquitous|melancholy|resilience|nostalgia|quixotic|benevolent|paradigm|"
    "ambiguous|meticulous|eloquent|wanderlust|pragmatic|candid|frugal|gregarious|tenacious|whimsical|nuance|"
    "lucid|empathy|integrity|solace|ineffable|laconic|zealous|tranquil|verbose|mundane",
}
